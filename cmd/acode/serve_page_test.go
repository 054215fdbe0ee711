package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/testenv"
)

// get fetches path from the running service, with the API credentials
// when auth is set.
func (sp *serveProcess) get(t *testing.T, path string, auth bool) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, sp.url+path, nil)
	if auth {
		req.SetBasicAuth(serveUser, servePass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func TestServe_StatusPageBehindCredentialsAndStatusMetrics(t *testing.T) {
	t.Parallel()
	m := testenv.SharedMariaDB(t)
	p := testenv.NewProject(t, m, m.NewDatabase(t), nil)
	sp := startServe(t, p)

	if code, _ := sp.get(t, "/", false); code != http.StatusUnauthorized {
		t.Errorf("GET / without credentials: %d, want 401 (serve.status_page defaults to auth)", code)
	}
	code, page := sp.get(t, "/", true)
	if code != http.StatusOK || !strings.Contains(page, "reading the primary: source_mysql_acode") {
		t.Errorf("GET / with credentials: %d\n%s", code, page)
	}
	if strings.Contains(page, servePass) || strings.Contains(page, testenv.ProjectPassword) {
		t.Error("the status page shows a secret")
	}
	_, metrics := sp.get(t, "/metrics", false)
	for _, want := range []string{
		`acode_active_source{pair="connection_mysql_s3_acode",role="primary",source="source_mysql_acode"} 1`,
		`acode_failovers_total{pair="connection_mysql_s3_acode"} 0`,
		"acode_state_readable 1",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
