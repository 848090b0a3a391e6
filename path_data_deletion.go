package instagram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

const pathDataDeletionHelpSyn = `Meta's Data Deletion Request callback, and the status of a deletion.`

const pathDataDeletionHelpDesc = `
Unauthenticated. Meta POSTs a form field "signed_request" to data-deletion
when a user asks for their data to be deleted. The engine verifies it
(signature, algorithm HMAC-SHA256, issued_at within config's
signed_request_max_age), deletes every account of that user, and answers
{"url": ..., "confirmation_code": ...} as the whole response body, as Meta
requires. The url is data-deletion/<confirmation_code> under config's
public_url (default: redirect_uri without "/callback"); reading it reports
the deletion's status and times, nothing else, for config's
deletion_record_ttl (90 days by default).

An account registered or re-authorized after the request's issued_at is
left alone, and a request acts once: a repeat gets the same confirmation
code and deletes and stores nothing. A request that finds no account to
delete stores nothing at all: its code is derived from the request (a keyed
hash), so a repeat answers the same one, and its status reads no_data_held.

Register https://<vault>/v1/<mount>/data-deletion as the app's Data Deletion
Request URL in Meta's dashboard.
`

const (
	deletionStoragePrefix = "deletions/"
	deletionStatusDeleted = "deleted"
	// confirmationBytes is the entropy of a confirmation code: 128 bits,
	// so codes cannot be enumerated.
	confirmationBytes = 16
)

var confirmationCodeRegex = regexp.MustCompile(`^[0-9a-f]{32}$`)

// deletionRecord is what the engine keeps of a deletion: its status and
// times only, no user id and no account name.
type deletionRecord struct {
	Status      string    `json:"status"`
	RequestedAt time.Time `json:"requested_at"`
	CompletedAt time.Time `json:"completed_at"`
}

func pathDataDeletion(b *backend) []*framework.Path {
	statusFields := map[string]*framework.FieldSchema{
		"confirmation_code": {Type: framework.TypeString, Description: "The deletion's confirmation code."},
		"status":            {Type: framework.TypeString, Description: "deleted, or no_data_held: the user had no account here when Meta issued the request."},
		"requested_at":      {Type: framework.TypeTime, Description: "When Meta's request arrived."},
		"completed_at":      {Type: framework.TypeTime, Description: "When the deletion finished."},
	}
	return []*framework.Path{
		{
			Pattern:      "data-deletion$",
			DisplayAttrs: &framework.DisplayAttributes{OperationPrefix: operationPrefix},
			Fields:       signedRequestField(),
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.UpdateOperation: &framework.PathOperation{
					Callback:    b.pathDataDeletionWrite,
					Summary:     "Handle Meta's Data Deletion Request.",
					Description: "Unauthenticated. Verifies signed_request, deletes that user's accounts and answers Meta's {url, confirmation_code} as the raw body.",
					DisplayAttrs: &framework.DisplayAttributes{
						OperationVerb:   "delete",
						OperationSuffix: "user-data",
					},
					ForwardPerformanceStandby:   true,
					ForwardPerformanceSecondary: true,
					Responses: map[int][]framework.Response{
						http.StatusOK: {{
							Description: "Deleted (also when the user had no account here).",
							Fields: map[string]*framework.FieldSchema{
								"url":               {Type: framework.TypeString, Description: "Where the user can check the deletion's status."},
								"confirmation_code": {Type: framework.TypeString, Description: "The deletion's confirmation code."},
							},
						}},
						http.StatusBadRequest: {{Description: "The signed_request did not verify, or no public URL is configured; nothing changed."}},
					},
				},
			},
			HelpSynopsis:    pathDataDeletionHelpSyn,
			HelpDescription: pathDataDeletionHelpDesc,
		},
		{
			Pattern:      "data-deletion/(?P<confirmation_code>[^/]+)$",
			DisplayAttrs: &framework.DisplayAttributes{OperationPrefix: operationPrefix},
			Fields: map[string]*framework.FieldSchema{
				"confirmation_code": {Type: framework.TypeString, Description: "The confirmation code data-deletion answered.", Required: true},
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation: &framework.PathOperation{
					Callback:    b.pathDataDeletionRead,
					Summary:     "Report the status of a data deletion.",
					Description: "Unauthenticated. Answers the status and times as the raw body; 404 for an unknown code.",
					DisplayAttrs: &framework.DisplayAttributes{
						OperationVerb:   "read",
						OperationSuffix: "data-deletion-status",
					},
					Responses: map[int][]framework.Response{
						http.StatusOK:       {{Description: "OK", Fields: statusFields}},
						http.StatusNotFound: {{Description: "No deletion has this code."}},
					},
				},
			},
			HelpSynopsis:    pathDataDeletionHelpSyn,
			HelpDescription: pathDataDeletionHelpDesc,
		},
	}
}

func (b *backend) pathDataDeletionWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	sr, cfg, err := b.verifySignedRequest(ctx, req.Storage, d, "data-deletion")
	if err != nil {
		return respondErr(err)
	}
	// Checked before anything is deleted: Meta must get a status URL.
	base := cfg.publicMountURL()
	if base == "" {
		b.warnRefusal("data-deletion", "data deletion request refused: set config public_url (or a redirect_uri ending in /callback) so the engine can answer a status URL")
		return respondErr(badField("public_url", "is not configured, and redirect_uri does not end in /callback"))
	}
	answer := func(code string) (*logical.Response, error) {
		return rawJSON(http.StatusOK, map[string]any{
			"url":               base + "/data-deletion/" + code,
			"confirmation_code": code,
		})
	}

	unlock := b.lockSignedRequests()
	defer unlock()
	seen, err := b.loadSeenRequest(ctx, req.Storage, sr)
	if err != nil {
		return nil, err
	}
	if seen.DeletionCode != "" {
		// A replay, or Meta delivering again: the same confirmation
		// code, no second deletion and no second record.
		b.warnRefusal("data-deletion", "signed_request seen before: answered the same confirmation code, nothing done again",
			"issued_at", formatTime(sr.IssuedAt), "confirmation_code", seen.DeletionCode)
		return answer(seen.DeletionCode)
	}

	names, err := b.accountsOfUser(ctx, req.Storage, sr.UserID)
	if err != nil {
		return nil, err
	}
	requested := b.clock.Now()
	var deleted []string
	for _, name := range names {
		ok, err := b.deleteAccountOfUser(ctx, req.Storage, name, sr)
		if err != nil {
			return nil, err
		}
		if ok {
			deleted = append(deleted, name)
		}
	}
	if len(deleted) == 0 {
		// Nothing held, nothing stored: a code derived from the request
		// (nothing_held.go), the same for every replay.
		code, err := b.nothingHeldCode(ctx, req.Storage, sr)
		if err != nil {
			return nil, err
		}
		b.noteSignedRequest("data-deletion", "data deletion request: the user has no account in this engine authorized before the request was issued; nothing deleted, nothing stored",
			"confirmation_code", code)
		return answer(code)
	}
	code, err := newConfirmationCode()
	if err != nil {
		return nil, err
	}
	rec := deletionRecord{Status: deletionStatusDeleted, RequestedAt: requested, CompletedAt: b.clock.Now()}
	entry, err := logical.StorageEntryJSON(deletionStoragePrefix+code, rec)
	if err != nil {
		return nil, err
	}
	if err := req.Storage.Put(ctx, entry); err != nil {
		return nil, fmt.Errorf("writing data deletion status: %w", err)
	}
	seen.DeletionCode, seen.DeletedAt = code, rec.CompletedAt
	if err := b.saveSeenRequest(ctx, req.Storage, sr, seen); err != nil {
		return nil, err
	}
	// Account names are the operator's; logging them tells the operator
	// what went, and the confirmation code ties a user's question to it.
	// At most once per account ever registered, so not rate-limited.
	b.Logger().Info("data deletion request handled", "accounts_deleted", len(deleted), "accounts", deleted, "confirmation_code", code)
	return answer(code)
}

// deleteAccountOfUser deletes account name if it still belongs to the
// request's user and was authorized before the request was issued, under
// the account's lock.
func (b *backend) deleteAccountOfUser(ctx context.Context, s logical.Storage, name string, sr *graph.SignedRequest) (bool, error) {
	unlock := b.lockAccount(name)
	defer unlock()
	stored, err := loadAccount(ctx, s, name)
	if err != nil || stored == nil || !stored.belongsTo(sr.UserID) {
		return false, err
	}
	if stored.authorizedAfter(sr.IssuedAt) {
		b.noteSignedRequest("data-deletion", "data deletion request: account left alone, its owner authorized it after the request was issued",
			"account", name, "registered_at", formatTime(stored.RegisteredAt), "issued_at", formatTime(sr.IssuedAt))
		return false, nil
	}
	return true, b.deleteAccount(ctx, s, name)
}

func (b *backend) pathDataDeletionRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	code := d.Get("confirmation_code").(string)
	// Anything that is not a code this engine could have issued is
	// unknown: a 404, like a code never issued.
	if !confirmationCodeRegex.MatchString(code) {
		return nil, nil
	}
	entry, err := req.Storage.Get(ctx, deletionStoragePrefix+code)
	if err != nil {
		return nil, err
	}
	var rec deletionRecord
	if entry == nil {
		// Perhaps a request that found nothing to delete (nothing_held.go).
		issued, ok, err := b.nothingHeldIssuedAt(ctx, req.Storage, code)
		if err != nil || !ok {
			return nil, err
		}
		rec = deletionRecord{Status: deletionStatusNoData, RequestedAt: issued, CompletedAt: issued}
	} else if err := entry.DecodeJSON(&rec); err != nil {
		return nil, fmt.Errorf("decoding data deletion status: %w", err)
	}
	// Past deletion_record_ttl a record is gone, swept or not yet.
	cfg, err := b.readConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	ttl := defaultDeletionRecordTTL
	if cfg != nil {
		ttl = cfg.DeletionRecordTTL
	}
	if rec.expired(b.clock.Now(), ttl) {
		return nil, nil
	}
	return rawJSON(http.StatusOK, map[string]any{
		"confirmation_code": code,
		"status":            rec.Status,
		"requested_at":      formatTime(rec.RequestedAt),
		"completed_at":      formatTime(rec.CompletedAt),
	})
}

func newConfirmationCode() (string, error) {
	b := make([]byte, confirmationBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a confirmation code: %w", err)
	}
	return hex.EncodeToString(b), nil
}
