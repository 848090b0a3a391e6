package proxy

import "strings"

// knownSegments are the Graph objects and edges the engine's users call
// (Instagram, Facebook Pages and Threads). A path's family keeps these and
// replaces everything else, so the metrics label has a small fixed set of
// values whatever callers send.
var knownSegments = map[string]bool{
	"me": true, "media": true, "media_publish": true, "children": true, "comments": true,
	"replies": true, "insights": true, "stories": true, "tags": true, "mentioned_media": true,
	"mentioned_comment": true, "business_discovery": true, "content_publishing_limit": true,
	"conversations": true, "messages": true, "messenger_profile": true, "subscribed_apps": true,
	"accounts": true, "live_media": true, "recently_searched_hashtags": true, "top_media": true,
	"recent_media": true, "ig_hashtag_search": true, "product_tags": true, "collaborators": true,
	"available_catalogs": true, "catalog_product_search": true, "threads": true,
	"threads_publish": true, "threads_insights": true, "conversation": true, "feed": true,
	"posts": true, "picture": true, "photos": true, "videos": true, "permissions": true,
}

// Family is the label a Graph path is counted under: known objects and
// edges as they are, ids as "{id}", anything else as "{other}". It never
// holds a caller's raw id, so metrics stay bounded and name no account's
// objects.
func Family(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		switch {
		case knownSegments[s]:
		case isID(s):
			segs[i] = "{id}"
		default:
			segs[i] = "{other}"
		}
	}
	return strings.Join(segs, "/")
}

// isID reports whether s is a Graph id: digits, or digits joined by '_'
// (a Page post's "<page id>_<post id>").
func isID(s string) bool {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}
