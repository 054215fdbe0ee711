package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestLoad_ServeSettingsDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	p, err := Load(writeProject(t), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Settings.Serve; got != defaultServeSettings() || got.Listen != "127.0.0.1:8001" || got.PasswordEnv != "ACODE_API_PASSWORD" {
		t.Errorf("defaults: %+v", got)
	}
	p, err = Load(writeProject(t, edit{SettingsFile, "", "serve:\n  listen: :9000\n  auth: none\n  user_env: AF_USER\n  shutdown_grace: 0\n  job_attempts: 1\n  status_page: public\n"}), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Settings.Serve
	if s.Listen != ":9000" || s.Auth != AuthNone || s.UserEnv != "AF_USER" || s.ShutdownGrace != 0 || s.JobAttempts != 1 || s.TokenTTL != 15*time.Minute || s.StatusPage != StatusPagePublic {
		t.Errorf("overrides: %+v", s)
	}
}

func TestLoad_ServeSettingsErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ yaml, key, msg string }{
		{"serve:\n  listen: localhost\n", "serve.listen", "host:port"},
		{"serve:\n  auth: maybe\n", "serve.auth", "must be one of required, none"},
		{"serve:\n  password_env: ${X}\n", "serve.password_env", "environment variable X is not set"},
		{"serve:\n  password_env: my password\n", "serve.password_env", "must name an environment variable"},
		{"serve:\n  token_ttl: 30s\n", "serve.token_ttl", "at least 2m"},
		{"serve:\n  shutdown_grace: -1s\n", "serve.shutdown_grace", "must not be negative"},
		{"serve:\n  lisen: :80\n", "serve.lisen", "unknown key"},
		{"serve:\n  status_page: open\n", "serve.status_page", "must be one of auth, public"},
	} {
		_, err := Load(writeProject(t, edit{SettingsFile, "", tt.yaml}), minimalEnv)
		errs := Errors(err)
		if len(errs) != 1 || errs[0].Key != tt.key || !strings.Contains(errs[0].Msg, tt.msg) {
			t.Errorf("%q: got %v, want one error at %s containing %q", tt.yaml, err, tt.key, tt.msg)
		}
	}
}

func TestExample_SettingsFileListsEveryServeSetting(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(exampleDir(t), SettingsFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Serve map[string]any `yaml:"serve"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := len(doc.Serve), reflect.TypeFor[ServeSettings]().NumField(); got != want {
		t.Errorf("acode.yaml lists %d serve settings, ServeSettings has %d fields", got, want)
	}
	p, err := Load(exampleDir(t), exampleEnv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Settings.Serve != defaultServeSettings() {
		t.Errorf("the example's serve values differ from the defaults: %+v", p.Settings.Serve)
	}
}
