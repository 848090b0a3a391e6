//go:build crashpoints

package instagram

import (
	"os"
	"slices"
	"strings"
	"sync"

	hclog "github.com/hashicorp/go-hclog"
)

// crashPointEnv names the crash point and the accounts it stops, as
// "after-index-write:name1,name2". Test builds only (-tags crashpoints).
const crashPointEnv = "INSTAGRAM_CRASHPOINT"

// crashPointFromEnv returns a crash point that, the first time a listed
// account's write reaches the named point, logs that it did and blocks that
// write forever, so that the test can kill Vault there.
func crashPointFromEnv() crashPointFunc {
	point, list, ok := strings.Cut(os.Getenv(crashPointEnv), ":")
	if !ok {
		return nil
	}
	names := strings.Split(list, ",")
	var (
		mu      sync.Mutex
		reached = map[string]bool{}
	)
	return func(log hclog.Logger, at, account string) {
		if at != point || !slices.Contains(names, account) {
			return
		}
		mu.Lock()
		first := !reached[account]
		reached[account] = true
		mu.Unlock()
		if !first {
			return
		}
		log.Warn("crash point reached; holding the write until Vault is killed", "point", at, "account", account)
		select {}
	}
}
