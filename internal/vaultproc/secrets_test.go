package vaultproc

import (
	"strings"
	"testing"
)

func TestSecretsAddIgnoresShortValues(t *testing.T) {
	var s Secrets
	if got := s.Add("short", "1234567"); got != "1234567" {
		t.Errorf("Add returned %q, want its value", got)
	}
	s.Add("app secret", "12345678")
	snap := s.Snapshot()
	if len(snap) != 1 || snap["12345678"] != "app secret" {
		t.Errorf("Snapshot = %v, want only the 8-byte value", snap)
	}
	// The snapshot is a copy.
	snap["other"] = "x"
	if len(s.Snapshot()) != 1 {
		t.Error("changing a snapshot changed the registry")
	}
	s.Forget("12345678")
	if len(s.Snapshot()) != 0 {
		t.Errorf("Forget left %v", s.Snapshot())
	}
}

func TestScanLog(t *testing.T) {
	var s Secrets
	secret := s.Add("app secret", "sekret-0123456789")
	token := s.Add("current token for shop", "IGAAtoken0123456789")
	log := strings.Join([]string{
		`2026-01-01T00:00:00.000Z [INFO]  core: successful mount: path=instagram/`,
		`2026-01-01T00:00:01.000Z [DEBUG] secrets.vault-plugin-secrets-instagram.x: configured: timestamp=2026-01-01T00:00:01.000Z`,
		`2026-01-01T00:00:02.000Z [DEBUG] core: request: body=` + token,
		`2026-01-01T00:00:03.000Z [DEBUG] secrets.vault-plugin-secrets-instagram.x: wrote config app_secret=` + secret + ` timestamp=2026-01-01T00:00:03.000Z`,
		// The plugin's name without go-plugin's timestamp= is Vault
		// speaking about the plugin, not the plugin itself.
		`2026-01-01T00:00:04.000Z [INFO]  core: mounted vault-plugin-secrets-instagram`,
	}, "\n")
	leaks, pluginLines, err := s.ScanLog(writeFile(t, log), "Vault log")
	if err != nil {
		t.Fatal(err)
	}
	if pluginLines != 2 {
		t.Errorf("pluginLines = %d, want 2", pluginLines)
	}
	want := []string{
		"Vault log leaks the app secret at line 4: 2026-01-01T00:00:03.000Z [DEBUG] secrets.vault-plugin-secrets-instagram.x: wrote config app_secret=<app secret> timestamp=2026-01-01T00:00:03.000Z",
		"Vault log leaks the current token for shop at line 3: 2026-01-01T00:00:02.000Z [DEBUG] core: request: body=<current token for shop>",
	}
	if strings.Join(leaks, "\n") != strings.Join(want, "\n") {
		t.Errorf("leaks:\n%s\nwant:\n%s", strings.Join(leaks, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range leaks {
		if strings.Contains(l, secret) || strings.Contains(l, token) {
			t.Errorf("a leak report repeats the leaked value: %s", l)
		}
	}

	clean, pluginLines, err := s.ScanLog(writeFile(t, "nothing here\n"), "Vault log")
	if err != nil || len(clean) != 0 || pluginLines != 0 {
		t.Errorf("clean log: leaks %v, pluginLines %d, err %v", clean, pluginLines, err)
	}
	if _, _, err := s.ScanLog(t.TempDir()+"/nope.log", "Vault log"); err == nil {
		t.Error("ScanLog of a missing log: no error")
	}
}
