package graphtest

// Endpoint names, as counted by Calls and targeted by Fail.
const (
	EndpointAuthorize             = "authorize"             // www.instagram.com/oauth/authorize
	EndpointExchangeCode          = "exchange_code"         // api.instagram.com/oauth/access_token
	EndpointIGExchangeToken       = "ig_exchange_token"     // graph.instagram.com/access_token
	EndpointRefresh               = "refresh"               // graph.instagram.com/refresh_access_token
	EndpointMe                    = "me"                    // graph.instagram.com/{version}/me
	EndpointFacebookAuthorize     = "fb_authorize"          // www.facebook.com/{version}/dialog/oauth
	EndpointFacebookExchangeCode  = "fb_exchange_code"      // graph.facebook.com oauth/access_token with a code
	EndpointFacebookExchangeToken = "fb_exchange_token"     // graph.facebook.com oauth/access_token, fb_exchange_token
	EndpointAppToken              = "app_token"             // graph.facebook.com oauth/access_token, client_credentials
	EndpointPages                 = "pages"                 // graph.facebook.com/{version}/me/accounts
	EndpointDebugToken            = "debug_token"           // graph.facebook.com/{version}/debug_token
	EndpointThreadsAuthorize      = "threads_authorize"     // threads.net/oauth/authorize
	EndpointThreadsExchangeCode   = "threads_exchange_code" // graph.threads.net/oauth/access_token
	EndpointThreadsExchangeToken  = "th_exchange_token"     // graph.threads.net/access_token
	EndpointThreadsRefresh        = "threads_refresh"       // graph.threads.net/refresh_access_token
	EndpointThreadsMe             = "threads_me"            // graph.threads.net/v1.0/me
	EndpointMedia                 = "media"                 // <graph host>/{version}/<ig user>/media (list or create a container)
	EndpointMediaPublish          = "media_publish"         // <graph host>/{version}/<ig user>/media_publish
	EndpointInsights              = "insights"              // <graph host>/{version}/<ig user>/insights
)
