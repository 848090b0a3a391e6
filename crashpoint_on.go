//go:build crashpoints

package instagram

import (
	"os"
	"strconv"
	"strings"
	"sync"

	hclog "github.com/hashicorp/go-hclog"
)

// crashPointEnv names the crash point and the writes it stops, as
// "after-index-write:name1,name2@2": name1's first write to reach the
// point, name2's second. Test builds only (-tags crashpoints).
const crashPointEnv = "INSTAGRAM_CRASHPOINT"

// crashPointFromEnv returns a crash point that, when a listed account's
// write reaches the named point for the listed time, logs that it did and
// blocks that write forever, so that the test can kill Vault there.
func crashPointFromEnv() crashPointFunc {
	point, list, ok := strings.Cut(os.Getenv(crashPointEnv), ":")
	if !ok {
		return nil
	}
	stopAt := map[string]int{}
	for _, item := range strings.Split(list, ",") {
		name, nth, _ := strings.Cut(item, "@")
		n, err := strconv.Atoi(nth)
		if err != nil || n < 1 {
			n = 1
		}
		stopAt[name] = n
	}
	var (
		mu      sync.Mutex
		reached = map[string]int{}
	)
	return func(log hclog.Logger, at, account string) {
		if at != point || stopAt[account] == 0 {
			return
		}
		mu.Lock()
		reached[account]++
		stop := reached[account] == stopAt[account]
		mu.Unlock()
		if !stop {
			return
		}
		log.Warn("crash point reached; holding the write until Vault is killed", "point", at, "account", account)
		select {}
	}
}
