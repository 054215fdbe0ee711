package alert

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failure"
)

func sampleAlert(sev failure.Severity, ev Event) Alert {
	at := time.Date(2025, 8, 7, 2, 30, 0, 0, time.UTC)
	return Alert{
		Condition: "primary_unavailable/connection_mysql_s3_acode", Kind: KindPrimaryDown, Severity: sev, Event: ev,
		Details: Details{
			Title:   "Primary unavailable: connection_mysql_s3_acode",
			Message: "Primary ACODE connection failed 3 consecutive times. Backup system is being activated.",
			System:  "ACODE Primary Pipeline",
			Action:  "🚨 Backup sync triggered automatically. Monitor backup connection status.",
			Metrics: map[string]any{"consecutive_failures": 3, "backup_status": "activating"},
		},
		Time: at, Since: at.Add(-15 * time.Minute), DedupKey: DedupKey("primary_unavailable/connection_mysql_s3_acode"),
		StatusURL: "http://acode.test:8001/",
	}
}

func fieldsOf(att map[string]any) map[string]string {
	out := map[string]string{}
	for _, f := range att["fields"].([]any) {
		f := f.(map[string]any)
		out[f["title"].(string)] = f["value"].(string)
	}
	return out
}

func TestSlack_WebhookAttachmentLikeTheSeedsAlertBot(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t)
	s, err := NewSlack(SlackOptions{WebhookURL: recv.URL("/services/T/B/x"), Username: "ACODE Redundancy Bot", IconEmoji: ":gear:"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, a := range []Alert{sampleAlert(failure.Critical, EventRaised), sampleAlert(failure.Warning, EventRaised), sampleAlert(failure.Critical, EventResolved)} {
		if err := s.Send(ctx, a); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	reqs := recv.all()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	crit := reqs[0].Body
	if crit["username"] != "ACODE Redundancy Bot" || crit["icon_emoji"] != ":gear:" || crit["channel"] != nil {
		t.Errorf("message: %v", crit)
	}
	att := crit["attachments"].([]any)[0].(map[string]any)
	if att["color"] != "danger" || att["title"] != "🚨 Primary unavailable: connection_mysql_s3_acode - CRITICAL" ||
		!strings.Contains(att["text"].(string), "Backup system is being activated") || att["footer"] != "ACODE Redundancy System" {
		t.Errorf("critical attachment: %v", att)
	}
	f := fieldsOf(att)
	if f["System"] != "ACODE Primary Pipeline" || f["Timestamp"] != "2025-08-07T02:30:00Z" ||
		!strings.HasPrefix(f["Action Required"], "🚨 Backup sync triggered") ||
		!strings.Contains(f["Metrics"], `"consecutive_failures": 3`) || !strings.HasPrefix(f["Metrics"], "```") {
		t.Errorf("critical fields: %v", f)
	}
	buttons := att["actions"].([]any)
	if len(buttons) != 2 {
		t.Fatalf("critical buttons: %v", buttons)
	}
	status, failover := buttons[0].(map[string]any), buttons[1].(map[string]any)
	if status["type"] != "button" || status["url"] != "http://acode.test:8001/" ||
		failover["url"] != "http://acode.test:8001/#failover" || failover["style"] != "danger" {
		t.Errorf("buttons: %v", buttons)
	}

	warn := reqs[1].Body["attachments"].([]any)[0].(map[string]any)
	if warn["color"] != "warning" || !strings.HasSuffix(warn["title"].(string), "- WARNING") || len(warn["actions"].([]any)) != 1 {
		t.Errorf("warning attachment: color %v title %v actions %v", warn["color"], warn["title"], warn["actions"])
	}
	resolved := reqs[2].Body["attachments"].([]any)[0].(map[string]any)
	if resolved["color"] != "good" || resolved["title"] != "✅ Resolved: Primary unavailable: connection_mysql_s3_acode" {
		t.Errorf("resolved attachment: %v", resolved)
	}
}

func TestSlack_BotTokenPostsToChatPostMessage(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t)
	recv.reply(http.StatusOK, `{"ok": true}`)
	const token = "xoxb-s3cret-bot-token"
	s, err := NewSlack(SlackOptions{Token: token, Channel: "#data-engineering-alerts", APIURL: recv.URL("/api/")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Send(ctx, sampleAlert(failure.Critical, EventRaised)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	req := recv.all()[0]
	if req.Path != "/api/chat.postMessage" || req.Header.Get("Authorization") != "Bearer "+token ||
		req.Body["channel"] != "#data-engineering-alerts" || len(req.Body["attachments"].([]any)) != 1 {
		t.Errorf("request: %s %v %v", req.Path, req.Header, req.Body)
	}
	recv.reply(http.StatusOK, `{"ok": false, "error": "channel_not_found"}`)
	err = s.Send(ctx, sampleAlert(failure.Critical, EventRaised))
	var se *SendError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "channel_not_found") || strings.Contains(err.Error(), token) {
		t.Errorf("ok:false answer gave %v", err)
	}
	if _, err := NewSlack(SlackOptions{Token: token}); err == nil {
		t.Error("a token without a channel was accepted")
	}
}

func TestPagerDuty_TriggerAndResolveEvents(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t)
	recv.reply(http.StatusAccepted, `{"status":"success","message":"Event processed"}`)
	p, err := NewPagerDuty(PagerDutyOptions{RoutingKey: routingKey, EventsURL: recv.URL("/v2/enqueue")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, ev := range []Event{EventTrigger, EventRaised, EventResolve} {
		if err := p.Send(ctx, sampleAlert(failure.Critical, ev)); err != nil {
			t.Fatalf("Send(%s): %v", ev, err)
		}
	}
	reqs := recv.all()
	if len(reqs) != 2 {
		t.Fatalf("%d events, want trigger and resolve only (raised is not a page)", len(reqs))
	}
	trig, res := reqs[0].Body, reqs[1].Body
	payload, _ := trig["payload"].(map[string]any)
	if trig["event_action"] != "trigger" || trig["routing_key"] != routingKey || trig["dedup_key"] != "acode/primary_unavailable/connection_mysql_s3_acode" ||
		payload["severity"] != "critical" || payload["source"] != "ACODE Primary Pipeline" || payload["timestamp"] != "2025-08-07T02:30:00Z" ||
		!strings.HasPrefix(payload["summary"].(string), "Primary unavailable") || payload["class"] != KindPrimaryDown ||
		payload["custom_details"].(map[string]any)["consecutive_failures"] != float64(3) {
		t.Errorf("trigger: %v", trig)
	}
	if res["event_action"] != "resolve" || res["dedup_key"] != trig["dedup_key"] || res["payload"] != nil {
		t.Errorf("resolve: %v", res)
	}
	recv.reply(http.StatusBadRequest, `{"status":"invalid event","message":"Event object is invalid"}`)
	err = p.Send(ctx, sampleAlert(failure.Critical, EventTrigger))
	var se *SendError
	if !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest || strings.Contains(err.Error(), routingKey) {
		t.Errorf("400 answer gave %v", err)
	}
}

func TestWebhook_PostsTheAlertAsJSON(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t)
	w, err := NewWebhook(recv.URL("/hook?token="+webhookTok), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Send(context.Background(), sampleAlert(failure.Warning, EventRaised)); err != nil {
		t.Fatal(err)
	}
	b := recv.all()[0].Body
	if b["condition"] != "primary_unavailable/connection_mysql_s3_acode" || b["severity"] != "warning" || b["event"] != "raised" ||
		b["title"] != "Primary unavailable: connection_mysql_s3_acode" || b["dedup_key"] != "acode/primary_unavailable/connection_mysql_s3_acode" ||
		b["time"] != "2025-08-07T02:30:00Z" || b["metrics"].(map[string]any)["backup_status"] != "activating" {
		t.Errorf("webhook body: %v", b)
	}
}

func TestSinks_ErrorsNeverCarryTheEndpointSecret(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t)
	recv.reply(http.StatusInternalServerError, "upstream broke")
	down := "http://127.0.0.1:1" // nothing listens on port 1
	ctx := context.Background()
	var sinks []Sink
	for _, u := range []string{recv.URL(slackPath), down + slackPath} {
		s, _ := NewSlack(SlackOptions{WebhookURL: u})
		sinks = append(sinks, s)
	}
	for _, u := range []string{recv.URL("/hook?token=" + webhookTok), down + "/hook?token=" + webhookTok} {
		w, _ := NewWebhook(u, nil)
		sinks = append(sinks, w)
	}
	p, _ := NewPagerDuty(PagerDutyOptions{RoutingKey: routingKey, EventsURL: down + "/v2/enqueue"})
	sinks = append(sinks, p)
	for _, s := range sinks {
		err := s.Send(ctx, sampleAlert(failure.Critical, EventTrigger))
		if err == nil {
			if s.Name() == "pagerduty" {
				t.Errorf("pagerduty to a closed port: no error")
			}
			continue
		}
		for _, secret := range []string{"sl4ckS3cretT0ken", webhookTok, routingKey} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s error %q holds a secret", s.Name(), err)
			}
		}
		if !strings.Contains(err.Error(), s.Name()) {
			t.Errorf("error %q does not name the sink", err)
		}
	}
}
