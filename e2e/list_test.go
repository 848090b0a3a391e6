//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// listPageLimit is the engine's default and largest page (maxListLimit).
const listPageLimit = 1000

// TestListAccountsInPages registers one account more than a page holds and
// lists them the ways docs/paths.md shows, with the real Vault CLI and HTTP
// API: `vault list` answers the first page and a warning naming the next
// page's after; `vault read ... list=true after=... limit=...` (the CLI's
// list takes no parameters) and an HTTP LIST with them as query parameters
// answer later pages. Then the same ways filtered by status, as the
// runbooks use it (listByStatus).
func TestListAccountsInPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := findPlugin()
	if err != nil {
		t.Fatal(err)
	}
	u := e.addUser("pages_owner")
	token := e.mintLongLived(u, time.Now().Add(-48*time.Hour), basicScopes...)
	names := make([]string, listPageLimit+1)
	for i := range names {
		names[i] = fmt.Sprintf("acct%05d", i)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	work := make(chan string)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				if _, err := e.root.Logical().Write(mountPath+"/accounts/"+name, map[string]any{"access_token": token}); err != nil {
					mu.Lock()
					firstErr = cmpOr(firstErr, fmt.Errorf("register %s: %w", name, err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, name := range names {
		work <- name
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		e.fatalf("%v", firstErr)
	}

	run := func(args ...string) (string, error) {
		cmd := exec.Command(p.VaultBin, args...)
		cmd.Env = append(vaultproc.Environ(), "VAULT_ADDR="+e.addr, "VAULT_TOKEN="+rootToken)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	cli := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			e.fatalf("vault %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	// vault list: the first page, and a warning saying how to get the rest.
	out := cli("list", mountPath+"/accounts")
	last := names[listPageLimit-1]
	if !strings.Contains(out, "after="+last) || !strings.Contains(out, last) || strings.Contains(out, names[listPageLimit]) {
		t.Errorf("vault list: want the first %d names and a warning naming after=%s; got (last lines):\n%s", listPageLimit, last, tail(out, 8))
	}

	// vault read with list=true: the next page, with data.keys and no next.
	var page struct {
		Data struct {
			Keys []string `json:"keys"`
			Next string   `json:"next"`
		} `json:"data"`
		Warnings []string `json:"warnings"`
	}
	out = cli("read", "-format=json", mountPath+"/accounts", "list=true", "after="+last, "limit=5")
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatalf("vault read list=true: %v\n%s", err, out)
	}
	if !slices.Equal(page.Data.Keys, names[listPageLimit:]) || page.Data.Next != "" || len(page.Warnings) != 0 {
		t.Errorf("vault read list=true after=%s limit=5: %+v", last, page)
	}
	out = cli("read", "-format=json", mountPath+"/accounts", "list=true", "limit=2")
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatalf("vault read list=true limit=2: %v\n%s", err, out)
	}
	if !slices.Equal(page.Data.Keys, names[:2]) || page.Data.Next != names[1] {
		t.Errorf("vault read list=true limit=2: %+v", page)
	}

	// The HTTP API, as the curl in docs/paths.md: LIST with after and limit as
	// query parameters.
	req, err := http.NewRequestWithContext(context.Background(), "LIST",
		e.addr+"/v1/"+mountPath+"/accounts?after="+names[1]+"&limit=3", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", rootToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.fatalf("LIST ?after=%s&limit=3: %v", names[1], err)
	}
	defer resp.Body.Close()
	page.Data.Keys, page.Data.Next = nil, ""
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("LIST ?after=%s&limit=3: HTTP %d, %v", names[1], resp.StatusCode, err)
	}
	if !slices.Equal(page.Data.Keys, names[2:5]) || page.Data.Next != names[4] {
		t.Errorf("LIST ?after=%s&limit=3: %+v", names[1], page)
	}

	// A page larger than the maximum is refused, naming limit.
	out2, err := run("read", mountPath+"/accounts", "list=true", fmt.Sprintf("limit=%d", listPageLimit+1))
	if err == nil || !strings.Contains(out2, "limit") || !strings.Contains(out2, "400") {
		t.Errorf("limit=%d: %v\n%s", listPageLimit+1, err, out2)
	}

	listByStatus(t, e, run, cli)
}

// listByStatus is the status filter the runbooks use (docs/monitoring.md),
// through the real CLI and HTTP API, among the accounts
// TestListAccountsInPages registered: two tokens die, and `vault read
// instagram/accounts list=true status=needs_reauth` lists those two
// accounts and nothing else, a page at a time like the plain list; an HTTP
// LIST takes status as a query parameter; an unknown status is a 400
// naming it; a status no account has is Vault's "No value found".
func listByStatus(t *testing.T, e *env, run func(...string) (string, error), cli func(...string) string) {
	dead := []string{"dead-1", "dead-2"}
	for _, name := range dead {
		u := e.addUser(name + "_owner")
		token := e.mintLongLived(u, time.Now().Add(-48*time.Hour), basicScopes...)
		if _, err := e.root.Logical().Write(mountPath+"/accounts/"+name, map[string]any{"access_token": token}); err != nil {
			e.fatalf("register %s: %v", name, err)
		}
		e.fake.Revoke(token)
		if _, err := e.root.Logical().Write(mountPath+"/accounts/"+name+"/refresh", nil); vaultproc.StatusOf(err) != http.StatusBadRequest {
			e.fatalf("refreshing %s's revoked token: %v, want a 400", name, err)
		}
	}

	// The runbook's command, as a person types it: a table of the keys.
	out := cli("read", mountPath+"/accounts", "list=true", "status=needs_reauth")
	if !strings.Contains(out, "keys") || !strings.Contains(out, "[dead-1 dead-2]") || strings.Contains(out, "acct0") {
		t.Errorf("vault read %s/accounts list=true status=needs_reauth:\n%s", mountPath, out)
	}
	t.Logf("vault read %s/accounts list=true status=needs_reauth:\n%s", mountPath, out)

	// A page at a time, as the plain list.
	var page struct {
		Data struct {
			Keys []string `json:"keys"`
			Next string   `json:"next"`
		} `json:"data"`
		Warnings []string `json:"warnings"`
	}
	out = cli("read", "-format=json", mountPath+"/accounts", "list=true", "status=needs_reauth", "limit=1")
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatalf("vault read list=true status=needs_reauth limit=1: %v\n%s", err, out)
	}
	if !slices.Equal(page.Data.Keys, dead[:1]) || page.Data.Next != dead[0] || len(page.Warnings) != 0 {
		t.Errorf("vault read list=true status=needs_reauth limit=1: %+v", page)
	}
	// The HTTP API: LIST with status and after as query parameters.
	req, err := http.NewRequestWithContext(context.Background(), "LIST",
		e.addr+"/v1/"+mountPath+"/accounts?status=needs_reauth&after="+page.Data.Next, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", rootToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.fatalf("LIST ?status=needs_reauth: %v", err)
	}
	defer resp.Body.Close()
	page.Data.Keys, page.Data.Next = nil, ""
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("LIST ?status=needs_reauth&after=%s: HTTP %d, %v", dead[0], resp.StatusCode, err)
	}
	if !slices.Equal(page.Data.Keys, dead[1:]) || page.Data.Next != "" {
		t.Errorf("LIST ?status=needs_reauth&after=%s: %+v", dead[0], page)
	}

	// The valid ones are the rest: the first page of them has no dead one.
	out = cli("read", "-format=json", mountPath+"/accounts", "list=true", "status=valid", "limit=1000")
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatalf("vault read list=true status=valid: %v\n%s", err, out)
	}
	if len(page.Data.Keys) != listPageLimit || page.Data.Keys[0] != "acct00000" || slices.Contains(page.Data.Keys, dead[0]) {
		t.Errorf("vault read list=true status=valid: %d keys from %v", len(page.Data.Keys), page.Data.Keys[:min(3, len(page.Data.Keys))])
	}

	// An unknown status is a 400 naming status.
	out, err = run("read", mountPath+"/accounts", "list=true", "status=dead")
	if err == nil || !strings.Contains(out, "status") || !strings.Contains(out, "400") || !strings.Contains(out, "needs_reauth") {
		t.Errorf("status=dead: %v\n%s", err, out)
	}
	// A status no account has: an empty list, which Vault answers with 404
	// and the CLI as "No value found".
	out, err = run("read", mountPath+"/accounts", "list=true", "status=expiring")
	if err == nil || !strings.Contains(out, "No value found") {
		t.Errorf("status=expiring (no account): %v\n%s", err, out)
	}
	t.Logf("vault read %s/accounts list=true status=expiring (none): %v\n%s", mountPath, err, out)
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
