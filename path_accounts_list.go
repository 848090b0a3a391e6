package instagram

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

// maxListLimit is the default and largest page of LIST accounts/: an answer
// must not grow with the number of accounts (a million names are about
// 14 MB of JSON).
const maxListLimit = 1000

// pathAccountsList answers a page of account names, of every account or of
// those with the status asked for (path_accounts_list_status.go). Once the
// schedule is built it holds every account in name order, so a page costs
// O(log n + limit) in memory; until then (the first moments after the
// plugin starts) a page of every account comes from a listing of storage,
// the same answer at O(n), and a page by status is a 503 to retry.
func (b *backend) pathAccountsList(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	after := d.Get("after").(string)
	if after != "" && checkName(after) != nil {
		return respondErr(badField("after", "is not an account name (the next of the previous page)"))
	}
	limit := maxListLimit
	if v, ok := d.GetOk("limit"); ok {
		limit = v.(int)
		switch {
		case limit < 1:
			return respondErr(badField("limit", "must be at least 1"))
		case limit > maxListLimit:
			return respondErr(badField("limit", "must be at most %d", maxListLimit))
		}
	}

	status, err := listStatus(d)
	if err != nil {
		return respondErr(err)
	}

	var names []string
	var unverified []int
	var more, built bool
	if status != "" {
		if names, unverified, more, built = b.sched.NamesWithStatusAfter(status, after, limit); !built {
			return nil, errStatusesLoading
		}
	} else if names, unverified, more, built = b.sched.NamesAfter(after, limit); !built {
		if names, more, err = listStoredNamesAfter(ctx, req.Storage, after, limit); err != nil {
			return nil, err
		}
	}
	var next string
	if more {
		next = names[len(names)-1]
	}
	// A name the schedule has not confirmed since a crash (or a failed
	// write) is listed only if its account is stored, with the status
	// asked for; the periodic work confirms or forgets it within a minute.
	for i := len(unverified) - 1; i >= 0; i-- {
		at := unverified[i]
		a, err := loadAccount(ctx, req.Storage, names[at])
		if err != nil {
			return nil, err
		}
		if a == nil || (status != "" && a.Status != status) {
			names = slices.Delete(names, at, at+1)
		}
	}
	resp := logical.ListResponse(names)
	if more {
		resp.Data["next"] = next
		if _, paging := d.Raw["after"]; !paging {
			if _, paging = d.Raw["limit"]; !paging {
				q := statusQuery(status)
				resp.AddWarning(fmt.Sprintf("only the first %d accounts are listed; list the next page with %safter=%s "+
					"(vault read %saccounts list=true %safter=%s, or ?%safter=%s on the LIST request)",
					len(names), q, next, req.MountPoint, q, next, strings.ReplaceAll(q, " ", "&"), next))
			}
		}
	}
	return resp, nil
}

// listStoredNamesAfter is namesAfter from a listing of storage.
func listStoredNamesAfter(ctx context.Context, s logical.Storage, after string, limit int) ([]string, bool, error) {
	all, err := s.List(ctx, accountStoragePrefix)
	if err != nil {
		return nil, false, err
	}
	slices.Sort(all)
	i := sort.SearchStrings(all, after)
	if i < len(all) && all[i] == after {
		i++
	}
	rest := all[i:]
	if len(rest) > limit {
		return slices.Clone(rest[:limit]), true, nil
	}
	return rest, false, nil
}
