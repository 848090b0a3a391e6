package instagram

// Version is the plugin's semantic version. Release builds set it with
// -ldflags "-X github.com/igvault/vault-plugin-secrets-instagram.Version=v1.2.3";
// Vault shows it in `vault plugin info` and `vault secrets list -detailed`.
var Version = "v0.0.0-dev"
