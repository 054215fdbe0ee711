package demo

import "testing"

// The demo's credentials win over the process environment, the S3 keys it
// does not use are placeholders only when the environment lacks them, and
// anything else is the environment's.
func TestEnv_DemoCredentialsOverTheEnvironment(t *testing.T) {
	t.Parallel()
	base := map[string]string{"ACODE_PASS": "users-own", "FARMARCAS_AWS_ACCESS_KEY_ID": "AKIAUSER", "HOME": "/home/u"}
	env := Env("demo-pw", func(k string) (string, bool) { v, ok := base[k]; return v, ok })
	for k, want := range map[string]string{
		"ACODE_PASS": "demo-pw", "ACODE_BACKUP_PASS": "demo-pw", "ACODE_BACKUP_USER": User, "ACODE_BACKUP_HOST": "127.0.0.1",
		"FARMARCAS_AWS_ACCESS_KEY_ID": "AKIAUSER", "FARMARCAS_AWS_SECRET_ACCESS_KEY": "not-used-by-the-demo", "HOME": "/home/u",
	} {
		if got, ok := env(k); !ok || got != want {
			t.Errorf("%s = %q, %t; want %q", k, got, ok, want)
		}
	}
	if v, ok := env("UNSET_VARIABLE"); ok {
		t.Errorf("UNSET_VARIABLE = %q, want unset", v)
	}
}
