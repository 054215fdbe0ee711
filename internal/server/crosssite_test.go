package server

import (
	"net/http"
	"testing"
)

// A browser that holds the API's basic-auth credentials sends them with any
// request to this host, including one another site's page makes it send.
// Every authenticated endpoint refuses those; Airflow's client, which sends
// neither Sec-Fetch-Site nor Origin, is unaffected.
func TestAPI_RefusesCrossSiteBrowserRequestsWithCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 50)
	creds := basic(apiUser, apiPass)
	crossSite := func(r *http.Request) { creds(r); r.Header.Set("Sec-Fetch-Site", "cross-site") }
	foreignOrigin := func(r *http.Request) { creds(r); r.Header.Set("Origin", "https://evil.example") }
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/api/v1/connections/sync", map[string]string{"connectionId": local}},
		{http.MethodPost, "/api/v1/jobs/cancel", map[string]int{"id": 1}},
		{http.MethodPost, "/v1/jobs", map[string]string{"connectionId": local, "jobType": "sync"}},
		{http.MethodPost, "/api/acode/connections/" + local + "/sync", nil},
	} {
		for name, auth := range map[string]func(*http.Request){"Sec-Fetch-Site cross-site": crossSite, "foreign Origin": foreignOrigin} {
			if r := e.doJSON(c.method, c.path, c.body, auth); r.status != http.StatusForbidden {
				t.Errorf("%s %s with %s: %d %s, want 403", c.method, c.path, name, r.status, r.body)
			}
		}
	}
	// What Airflow sends passes.
	if r := e.doJSON(http.MethodPost, "/api/v1/connections/sync", map[string]string{"connectionId": local}, creds); r.status != http.StatusOK {
		t.Fatalf("Airflow's call: %d %s, want 200", r.status, r.body)
	}
}
