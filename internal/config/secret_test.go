package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestSecret_NeverPrintsItsValue(t *testing.T) {
	t.Parallel()
	const value = "hunter2-s3cr3t"
	src := &Source{Host: "db", Username: "u", Password: Secret(value), SSL: SSLMode{ClientKeyPassword: Secret(value)}}
	dst := Destination{AccessKeyID: Secret(value), SecretAccessKey: Secret(value)}

	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s"} {
		out = append(out, fmt.Sprintf(verb, src.Password), fmt.Sprintf(verb, src), fmt.Sprintf(verb, *src), fmt.Sprintf(verb, dst))
	}
	out = append(out, fmt.Sprint(src.Password), fmt.Sprintln(dst), src.Password.String(), src.Password.GoString())

	js, err := json.Marshal(struct {
		S *Source
		D Destination
	}{src, dst})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(js))
	ys, err := yaml.Marshal(dst)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(ys))

	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		log := slog.New(h)
		log.Info("connect", "password", src.Password, "source", src, "dest", dst)
		log.Info("connect", slog.Any("password", src.Password))
	}
	out = append(out, logs.String())
	out = append(out, fmt.Errorf("connect %s: %v", src.Host, src.Password).Error())

	for _, s := range out {
		if strings.Contains(s, value) || strings.Contains(s, fmt.Sprintf("%x", value)) {
			t.Errorf("secret leaked: %s", s)
		}
	}
	if !strings.Contains(fmt.Sprintf("%v", src.Password), "******") || !strings.Contains(string(js), `"Password":"******"`) {
		t.Errorf("redaction marker missing: %v %s", src.Password, js)
	}
	if src.Password.Reveal() != value {
		t.Errorf("Reveal() = %q", src.Password.Reveal())
	}
}

func TestSecret_EmptyStaysEmpty(t *testing.T) {
	t.Parallel()
	var s Secret
	js, _ := json.Marshal(s)
	if got := fmt.Sprintf("%v|%s", s, js); got != `|""` {
		t.Errorf("empty secret prints %q", got)
	}
}

func TestLoad_SecretValuesStayOutOfErrors(t *testing.T) {
	t.Parallel()
	const value = "hunter2-s3cr3t"
	dir := writeProject(t, edit{srcFile, "  ssl_mode:\n    mode: preferred", "  ssl_mode:\n    mode: required\n    client_key: ${DB_PASS}"})
	_, err := Load(dir, env("DB_HOST", "h", "DB_PASS", value))
	if err == nil {
		t.Fatal("a client_key that is not PEM must be an error")
	}
	if strings.Contains(err.Error(), value) {
		t.Errorf("error shows the secret: %v", err)
	}
}
