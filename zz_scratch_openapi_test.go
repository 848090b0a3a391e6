package instagram

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

func TestZZScratchDump(t *testing.T) {
	b := newBackend(backendOptions{})
	conf := logical.TestBackendConfig()
	conf.StorageView = &logical.InmemStorage{}
	if err := b.Setup(context.Background(), conf); err != nil {
		t.Fatal(err)
	}
	resp, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.HelpOperation, Path: "", Storage: conf.StorageView, Data: map[string]any{"requestResponsePrefix": "instagram"}})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(resp.Data["openapi"], "", " ")
	os.WriteFile("/tmp/ig5/scratch/doc.json", out, 0o644)
}
