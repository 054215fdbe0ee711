package configexport

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestRedact_InlinePEMKeyAndFlowMappingBecomeReferences(t *testing.T) {
	in := `# a source with an inline client key
resource_name: src_a
configuration:
  host: db # the host
  tunnel_method: {tunnel_method: SSH_PASSWORD_AUTH, tunnel_user_password: "tun\"pw", tunnel_user: u}
  ssl_mode:
    mode: verify_ca
    ca_certificate: certs/ca.pem
    client_key: |
      -----BEGIN PRIVATE KEY-----
      MIIEvQIBADANBgkqhkiG9w0BAQEFAASC
      -----END PRIVATE KEY-----
    client_key_password: ${KEY_PASS}
`
	out, reds, err := redact("sources/src_a/configuration.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "BEGIN PRIVATE KEY", `tun\"pw`, `"tun`} {
		if strings.Contains(out, leak) {
			t.Errorf("output holds %q:\n%s", leak, out)
		}
	}
	if len(reds) != 2 {
		t.Fatalf("redactions %+v, want the tunnel password and the client key", reds)
	}
	var doc struct {
		Configuration struct {
			Host   string `yaml:"host"`
			Tunnel struct {
				Password string `yaml:"tunnel_user_password"`
				User     string `yaml:"tunnel_user"`
			} `yaml:"tunnel_method"`
			SSL struct {
				CA      string `yaml:"ca_certificate"`
				Key     string `yaml:"client_key"`
				KeyPass string `yaml:"client_key_password"`
			} `yaml:"ssl_mode"`
		} `yaml:"configuration"`
	}
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("redacted file is not YAML: %v\n%s", err, out)
	}
	c := doc.Configuration
	if c.Host != "db" || c.Tunnel.User != "u" || c.SSL.CA != "certs/ca.pem" || c.SSL.KeyPass != "${KEY_PASS}" {
		t.Errorf("other values changed: %+v", c)
	}
	if c.Tunnel.Password != "${SRC_A_TUNNEL_METHOD_TUNNEL_USER_PASSWORD}" || c.SSL.Key != "${SRC_A_SSL_MODE_CLIENT_KEY}" {
		t.Errorf("references: %q %q", c.Tunnel.Password, c.SSL.Key)
	}
	if !strings.Contains(out, "# the host") {
		t.Errorf("comments lost:\n%s", out)
	}
}

func TestIsSecretKey(t *testing.T) {
	for key, want := range map[string]bool{
		"password": true, "secret_access_key": true, "access_key_id": true, "client_key": true,
		"tunnel_user_password": true, "api_token": true, "password_env": false, "password_file": false,
		"kms_key_id": false, "primary_key": false, "source_defined_primary_key": false, "host": false,
	} {
		if got := isSecretKey(key); got != want {
			t.Errorf("isSecretKey(%q) = %v, want %v", key, got, want)
		}
	}
}
