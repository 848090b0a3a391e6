//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestConsentFlowInABrowser drives headless Chromium through the
// authorization as the account owner lives it: the auth-url link opens the
// (fake) Instagram dialog, the owner clicks Allow, Instagram's redirect
// brings the browser to Vault's unauthenticated callback, and the page
// Vault answers is checked as rendered: its text, no secret anywhere in
// the DOM, and its own styling applied, not blocked by the page's Content
// Security Policy (computed styles, and no CSP violation reported). Then
// the same for an owner who clicks Cancel, and for a link that expired
// before the owner came back. A screenshot of each page is saved in the
// test's artifact directory (go test -artifacts keeps it; E2E_SCREENSHOT_DIR
// overrides it) and its path logged.
//
// Chromium is found as $CHROMIUM, chromium, chromium-browser or
// google-chrome; `make test-e2e` installs the Debian package when it can.
// Without it the test fails, saying so: the browser is the one part of the
// engine a person sees, and CI must run it.
func TestConsentFlowInABrowser(t *testing.T) {
	t.Parallel()
	chrome := chromiumPath(t)
	e := newEnv(t)
	e.fake.SetConsentPage(true)
	owner := e.addUser("browser_owner")
	b := newBrowser(t, chrome)
	shots := screenshotDir(t)

	// 1. Consent.
	login := e.issueLink("shop")
	b.open(login.String())
	b.expectConsentPage(owner.Username)
	b.screenshot(filepath.Join(shots, "consent-dialog.png"))
	status := b.click("#allow")
	p := b.callbackPage(e)
	if status != http.StatusOK {
		t.Errorf("the callback answered %d, want 200", status)
	}
	p.expect(t, "Instagram account connected", "Connected @"+owner.Username+" to account shop.", "You can close this page.")
	p.expectStyled(t, "rgb(26, 127, 55)")
	b.screenshot(filepath.Join(shots, "callback-connected.png"))
	tok := e.readToken(e.root, "shop")
	e.secrets.Add("token of shop", tok.accessToken)
	if tok.accessToken != e.currentToken(owner) {
		t.Error("token/shop is not the token the fake issued when the owner consented")
	}
	p.expectNoSecret(t, e)

	// 2. The owner declines.
	login = e.issueLink("declined")
	b.open(login.String())
	b.expectConsentPage(owner.Username)
	status = b.click("#deny")
	p = b.callbackPage(e)
	if status != http.StatusBadRequest {
		t.Errorf("the callback answered %d to a denial, want 400", status)
	}
	// In the page's own words: the query's error texts are anyone's to
	// write, so they are not repeated (issue 22).
	p.expect(t, "Authorization declined", "was not granted", "declined to grant the permissions", "Ask your Vault operator for a new authorization link")
	p.expectStyled(t, "rgb(180, 35, 24)")
	p.expectNoSecret(t, e)
	b.screenshot(filepath.Join(shots, "callback-declined.png"))
	if code, _ := e.rawRead(e.root, mountPath+"/accounts/declined"); code != http.StatusNotFound {
		t.Errorf("accounts/declined answered %d after a denial, want 404", code)
	}

	// 3. The link expires before the owner comes back. The plugin's clock
	// is the real one inside Vault, so the link is made to live one second
	// (state_ttl) and the test waits for its end: the one wall-clock wait
	// here.
	if _, err := e.root.Logical().Write(mountPath+"/config", map[string]any{"state_ttl": 1}); err != nil {
		e.fatalf("config state_ttl=1: %v", err)
	}
	sec, err := e.root.Logical().Write(mountPath+"/auth-url", map[string]any{"account": "late"})
	if err != nil {
		e.fatalf("auth-url: %v", err)
	}
	e.secrets.Add("state for late", sec.Data["state"].(string))
	expires, err := time.Parse(time.RFC3339, sec.Data["expires_at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(expires.Add(time.Second)))
	exchanges := e.fake.Calls(graphtest.EndpointExchangeCode)
	b.open(sec.Data["url"].(string))
	b.expectConsentPage(owner.Username)
	status = b.click("#allow")
	p = b.callbackPage(e)
	if status != http.StatusBadRequest {
		t.Errorf("the callback answered %d to an expired link, want 400", status)
	}
	p.expect(t, "Authorization link expired", "has expired, so no account was connected", "Ask your Vault operator for a new authorization link")
	p.expectStyled(t, "rgb(180, 35, 24)")
	p.expectNoSecret(t, e)
	b.screenshot(filepath.Join(shots, "callback-expired.png"))
	if n := e.fake.Calls(graphtest.EndpointExchangeCode) - exchanges; n != 0 {
		t.Errorf("the code of an expired link was exchanged (%d calls)", n)
	}

	b.expectNoCSPViolation()
}

// issueLink asks auth-url for a link for account, as an operator does.
func (e *env) issueLink(account string) *url.URL {
	e.t.Helper()
	sec, err := e.root.Logical().Write(mountPath+"/auth-url", map[string]any{"account": account})
	if err != nil {
		e.fatalf("auth-url %s: %v", account, err)
	}
	e.secrets.Add("state for "+account, sec.Data["state"].(string))
	u, err := url.Parse(sec.Data["url"].(string))
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// chromiumPath finds the browser, or fails the test saying how to get it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium not found ($CHROMIUM, chromium, chromium-browser, google-chrome): the browser test needs it. " +
		"Install it (Debian: apt-get install -y chromium; `make test-e2e` does so when run as root) or set CHROMIUM to its path.")
	return ""
}

// screenshotDir is where the pages' screenshots go.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("E2E_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

// cspProbe runs in every page before its own content and records the
// page's Content Security Policy violations. Scripts the DevTools protocol
// injects are not subject to the page's CSP, so it runs on the callback
// page too, whose policy allows no script.
const cspProbe = `window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline'));
});`

// browser is one headless Chromium with one tab, and what the tab logged.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu   sync.Mutex
	logs []string // console API calls, exceptions and browser log entries
}

func newBrowser(t *testing.T, chrome string) *browser {
	t.Helper()
	profile, err := os.MkdirTemp("", "e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox, // root on a CI machine
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(900, 640),
	)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
		// Chromium's children may write to the profile for a moment
		// after the browser is gone.
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	b := &browser{t: t, ctx: ctx}
	if err := chromedp.Listen(ctx, b.record); err != nil {
		t.Fatalf("starting Chromium %s: %v", chrome, err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("Log.enable: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe}); err != nil {
		t.Fatalf("installing the CSP probe: %v", err)
	}
	version, _ := exec.Command(chrome, "--version").Output()
	t.Logf("browser: %s", strings.TrimSpace(string(version)))
	return b
}

// record keeps what the page logged; it runs on chromedp's reading
// goroutine, so it only appends.
func (b *browser) record(ev any) {
	var line string
	switch ev := ev.(type) {
	case *cdplog.EventEntryAdded:
		line = fmt.Sprintf("log %s/%s: %s", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text)
	case *cdpruntime.EventConsoleAPICalled:
		var args []string
		for _, a := range ev.Args {
			args = append(args, string(a.Value)+a.Description)
		}
		line = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
	case *cdpruntime.EventExceptionThrown:
		line = "exception: " + ev.ExceptionDetails.Text
	default:
		return
	}
	b.mu.Lock()
	b.logs = append(b.logs, line)
	b.mu.Unlock()
}

func (b *browser) open(u string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(u)); err != nil {
		b.t.Fatalf("opening the link: %v", err)
	}
}

// expectConsentPage waits for the fake's dialog asking the owner.
func (b *browser) expectConsentPage(username string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.CSS("#allow"))); err != nil {
		b.t.Fatalf("no consent page: %v", err)
	}
	text, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || !strings.Contains(text, "continue as "+username) {
		b.t.Fatalf("consent page heading %q (%v)", text, err)
	}
}

// click clicks a button of the consent page as the owner does and returns
// the HTTP status of the page the navigation ends on, after Instagram's
// redirect.
func (b *browser) click(sel string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("clicking %s: %v", sel, err)
	}
	return resp.Status
}

func (b *browser) screenshot(path string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

// renderedPage is what the browser shows, read from the DOM.
type renderedPage struct {
	URL        string   `json:"url"`
	Title      string   `json:"title"`
	Heading    string   `json:"heading"`
	Text       string   `json:"text"`
	HTML       string   `json:"html"`
	BodyBg     string   `json:"bodyBg"`
	MainBg     string   `json:"mainBg"`
	MainRadius string   `json:"mainRadius"`
	MainWidth  float64  `json:"mainWidth"`
	H1Color    string   `json:"h1Color"`
	Violations []string `json:"violations"`
}

const readPage = `(() => {
  const main = document.querySelector('main'), h1 = document.querySelector('main h1');
  const ms = getComputedStyle(main), bs = getComputedStyle(document.body);
  return {url: location.href, title: document.title, heading: h1.textContent,
    text: document.body.innerText, html: document.documentElement.outerHTML,
    bodyBg: bs.backgroundColor, mainBg: ms.backgroundColor, mainRadius: ms.borderTopLeftRadius,
    mainWidth: main.getBoundingClientRect().width, h1Color: getComputedStyle(h1).color,
    violations: window.__cspViolations || ['the CSP probe did not run']};
})()`

// callbackPage waits for Vault's callback page and reads it. The code and
// state of the URL the browser landed on join the secrets, which the page
// (and Vault's log) must not show.
func (b *browser) callbackPage(e *env) renderedPage {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
		b.t.Fatalf("no callback page: %v", err)
	}
	p, err := chromedp.Run(b.ctx, chromedp.Evaluate[renderedPage](readPage))
	if err != nil {
		b.t.Fatalf("reading the page: %v", err)
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		b.t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != e.redirectURI {
		b.t.Fatalf("the browser ended at %s, want Vault's callback %s", got, e.redirectURI)
	}
	for _, k := range []string{"code", "state"} {
		if v := u.Query().Get(k); v != "" {
			e.secrets.Add(k+" in the callback URL", v)
		}
	}
	return p
}

func (p renderedPage) expect(t *testing.T, heading string, says ...string) {
	t.Helper()
	if p.Heading != heading || p.Title != heading {
		t.Errorf("page heading %q, title %q; want %q", p.Heading, p.Title, heading)
	}
	for _, s := range says {
		if !strings.Contains(p.Text, s) {
			t.Errorf("the page does not say %q; it says:\n%s", s, p.Text)
		}
	}
}

// expectStyled checks that the page's own stylesheet applied: were it
// blocked by the page's CSP, the background would be transparent, the
// card square and full-width, and the heading black.
func (p renderedPage) expectStyled(t *testing.T, h1Color string) {
	t.Helper()
	if p.BodyBg != "rgb(250, 250, 250)" || p.MainBg != "rgb(255, 255, 255)" || p.MainRadius != "8px" ||
		p.H1Color != h1Color || p.MainWidth > 32*16+2*32+2 {
		t.Errorf("the page's styling is not applied: body background %s, card background %s radius %s width %.0f, heading %s (want %s)",
			p.BodyBg, p.MainBg, p.MainRadius, p.MainWidth, p.H1Color, h1Color)
	}
	if len(p.Violations) > 0 {
		t.Errorf("Content Security Policy violations on the page: %q", p.Violations)
	}
}

// expectNoSecret checks the whole DOM for every secret of the test: the
// app secret, states, codes, tokens.
func (p renderedPage) expectNoSecret(t *testing.T, e *env) {
	t.Helper()
	for v, label := range e.secrets.Snapshot() {
		if v != "" && strings.Contains(p.HTML, v) {
			t.Errorf("the page's DOM contains the %s", label)
		}
	}
}

// expectNoCSPViolation checks what the browser logged over the whole test:
// Chromium reports a blocked resource as a "security" log entry and a
// console error mentioning the Content Security Policy.
func (b *browser) expectNoCSPViolation() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.logs {
		if strings.Contains(l, "Content Security Policy") || strings.HasPrefix(l, "log security/") {
			b.t.Errorf("the browser reported: %s", l)
		}
	}
	b.t.Logf("the browser logged %d messages, none about the Content Security Policy", len(b.logs))
}
