// Command fakemeta serves package graphtest's fake of Meta's token
// endpoints on a fixed address, for `make dev` and end-to-end tests. It
// prints the five base URLs to point the plugin's config at, as
// "field=URL" lines, then the two of a Threads mount (config
// login=threads) as "threads:field=URL" lines; mint codes and tokens, or
// delay every answer (POST /_fake/latency), with the admin API
// (docs/make-dev.md lists it); GET /_fakemeta/protocols counts the requests
// by protocol and User-Agent. It serves plain http unless -tls-cert-out
// asks for https (tls.go). For example:
//
//	curl -s -XPOST localhost:8999/_fake/codes \
//	  -d '{"username":"shop","redirect_uri":"http://127.0.0.1:8200/v1/instagram/callback"}'
//	curl -s -XPOST localhost:8999/_fake/codes \
//	  -d '{"username":"shop","login":"threads","scopes":["threads_basic"],"redirect_uri":"http://127.0.0.1:8200/v1/threads/callback"}'
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fakemeta:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. It is main without the process, for tests.
func run(ctx context.Context, args []string, stdin io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("fakemeta", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:8999", "listen address")
	appID := fs.String("app-id", graphtest.DefaultAppID, "the app id the fake accepts")
	appSecret := fs.String("app-secret", graphtest.DefaultAppSecret, "the app secret the fake accepts; - reads it from the first line of stdin, keeping it out of ps")
	keep := fs.Bool("keep-token-on-refresh", false, "refresh extends the same token string instead of issuing a new one")
	requireProof := fs.Bool("require-appsecret-proof", false, "Graph calls without appsecret_proof fail")
	consent := fs.Bool("consent-page", false, "login dialogs show a consent page (Allow, Cancel) instead of approving at once, for a person's browser")
	certOut := fs.String("tls-cert-out", "", "serve https (HTTP/2 and HTTP/1.1), as Meta does, with a self-signed certificate for 127.0.0.1, ::1 and localhost made at start and valid for 24h; write the certificate (PEM, no key) to this file for clients to trust; the URLs printed are then https")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *appSecret == "-" {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		*appSecret = strings.TrimRight(line, "\r\n")
		if *appSecret == "" {
			return fmt.Errorf("-app-secret -: no secret on stdin (%v)", err)
		}
	}

	fake := graphtest.NewUnstarted(graphtest.Options{
		AppID:                 *appID,
		AppSecret:             *appSecret,
		KeepTokenOnRefresh:    *keep,
		RequireAppSecretProof: *requireProof,
		ConsentPage:           *consent,
	})
	defer fake.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close() // Serve closes it too; this is for the errors before
	srv := &http.Server{Handler: countProtocols(fake.Handler()), ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if *certOut != "" {
		cert, certPEM, err := selfSigned(time.Now())
		if err != nil {
			return err
		}
		// Written before the URLs are printed: a reader that waits for
		// them finds the certificate to trust.
		if err := writeCertFile(*certOut, certPEM); err != nil {
			return err
		}
		srv.TLSConfig = tlsConfig(cert)
		scheme = "https"
	}

	base := scheme + "://" + ln.Addr().String()
	ep := graphtest.EndpointsFor(base)
	fmt.Fprintf(out, "fakemeta listening on %s (app id %s)\n", base, *appID)
	// One write, so that a reader waiting for the facebook_graph_base_url
	// line (scripts/dev.sh) finds the Threads lines with it. Those carry a
	// "threads:" prefix: they configure a Threads mount (config
	// login=threads), and a script that hands every "*_base_url=" line to
	// an Instagram mount's config must not pick them up.
	fmt.Fprintf(out, "auth_base_url=%s\napi_base_url=%s\ngraph_base_url=%s\nfacebook_auth_base_url=%s\nfacebook_graph_base_url=%s\n"+
		"threads:threads_auth_base_url=%s\nthreads:threads_graph_base_url=%s\n",
		ep.AuthBaseURL, ep.APIBaseURL, ep.GraphBaseURL, ep.FacebookAuthBaseURL, ep.FacebookGraphBaseURL,
		ep.ThreadsAuthBaseURL, ep.ThreadsGraphBaseURL)

	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			// The certificate is in TLSConfig; ServeTLS adds the
			// HTTP/2 server to it.
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fake.Close() // releases requests hanging on an injected failure
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
