package alert

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/acode-dev/acode/internal/config"
)

// escalationFromSettings builds the escalation matrix of s: its named sinks
// (off when their variable is unset), and the alerts section's own slack,
// pagerduty and webhook when a level names them and they are on. It
// returns the names of the escalation sinks that are on.
func escalationFromSettings(s config.AlertSettings, cfg Config, env func(string) string, client *http.Client) (*Escalation, []string, error) {
	sinks := map[string]LevelSink{}
	for _, c := range cfg.Chat {
		sinks[c.Name()] = LevelSink{Sink: c, Chat: true}
	}
	for _, p := range cfg.Pagers {
		sinks[p.Name()] = LevelSink{Sink: p, Pager: true}
	}
	var active []string
	for _, def := range s.Escalation.Sinks {
		ls, err := escalationSink(s, def, env, client)
		if err != nil {
			return nil, nil, fmt.Errorf("alerts.escalation.sinks.%s: %w", def.Name, err)
		}
		if ls.Sink != nil {
			sinks[def.Name] = ls
			active = append(active, "escalation:"+def.Name)
		}
	}
	e := &Escalation{Policies: map[string][]EscalationLevel{}, Priorities: s.Escalation.Priorities,
		Order: slices.Clone(config.EscalationPriorities)}
	for _, pol := range s.Escalation.Policies {
		var levels []EscalationLevel
		for _, l := range pol.Levels {
			lvl := EscalationLevel{Name: l.Name, After: l.After}
			for _, name := range l.Sinks {
				if ls, ok := sinks[name]; ok {
					lvl.Sinks = append(lvl.Sinks, ls)
				}
			}
			levels = append(levels, lvl)
		}
		e.Policies[pol.Priority] = levels
	}
	return e, active, nil
}

// escalationSink builds one named sink; a zero LevelSink when it is off.
func escalationSink(s config.AlertSettings, def config.EscalationSink, env func(string) string, client *http.Client) (LevelSink, error) {
	switch def.Type {
	case config.SinkPagerDuty:
		key := env(def.RoutingKeyEnv)
		if key == "" {
			return LevelSink{}, nil
		}
		url := def.EventsURL
		if url == "" {
			url = s.PagerDuty.EventsURL
		}
		pd, err := NewPagerDuty(PagerDutyOptions{RoutingKey: key, EventsURL: url, Client: client})
		if err != nil {
			return LevelSink{}, err
		}
		return LevelSink{Sink: named{pd, def.Name}, Pager: true}, nil
	case config.SinkSlack:
		hook, token := env(def.WebhookURLEnv), ""
		if hook == "" {
			if def.Channel == "" {
				return LevelSink{}, nil
			}
			if token = env(s.Slack.TokenEnv); token == "" {
				return LevelSink{}, nil
			}
		} else if err := checkURL(def.WebhookURLEnv, hook); err != nil {
			return LevelSink{}, err
		}
		sl, err := NewSlack(SlackOptions{WebhookURL: hook, Token: token, Channel: def.Channel, APIURL: s.Slack.APIURL,
			Username: s.Slack.Username, IconEmoji: s.Slack.IconEmoji, Client: client})
		if err != nil {
			return LevelSink{}, err
		}
		return LevelSink{Sink: named{sl, def.Name}}, nil
	case config.SinkWebhook:
		hook := env(def.URLEnv)
		if hook == "" {
			return LevelSink{}, nil
		}
		if err := checkURL(def.URLEnv, hook); err != nil {
			return LevelSink{}, err
		}
		w, err := NewWebhook(hook, client)
		if err != nil {
			return LevelSink{}, err
		}
		return LevelSink{Sink: named{w, def.Name}}, nil
	case config.SinkEmail:
		e := s.Email
		if e.SMTPHost == "" {
			return LevelSink{}, nil
		}
		m, err := NewEmailSink(def.Name, MailOptions{Host: e.SMTPHost, Port: e.SMTPPort, TLS: e.TLS,
			Username: env(e.UsernameEnv), Password: env(e.PasswordEnv), From: e.From, To: def.To, Timeout: 3 * s.Timeout})
		if err != nil {
			return LevelSink{}, err
		}
		return LevelSink{Sink: m}, nil
	}
	return LevelSink{}, fmt.Errorf("unknown sink type %q", def.Type)
}
