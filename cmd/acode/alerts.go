package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/state"
)

// newAlertsCmd lists and acknowledges the open alert conditions through
// the state store, so it works beside a running serve (SQLite or
// PostgreSQL): the leader reads the ack from there before it notifies a
// level.
func newAlertsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List the open alert conditions and acknowledge one (stops its escalation), through the state store",
	}
	cmd.AddCommand(newAlertsListCmd(g), newAlertsAckCmd(g))
	return cmd
}

// openState opens the project's state store.
func (g *globals) openState(cmd *cobra.Command) (*state.Store, error) {
	_, st, err := g.projectState(cmd.Context())
	return st, err
}

// alertJSON is one open condition as `acode alerts list --json` prints it.
type alertJSON struct {
	Condition          string     `json:"condition"`
	Severity           string     `json:"severity"`
	Title              string     `json:"title,omitempty"`
	Since              time.Time  `json:"since"`
	Clearing           bool       `json:"clearing"`
	EscalationPriority string     `json:"escalation_priority,omitempty"`
	EscalationLevel    int        `json:"escalation_level"`
	AcknowledgedAt     *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy     string     `json:"acknowledged_by,omitempty"`
}

func newAlertsListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "The open alert conditions: severity, since, escalation level reached, ack",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := g.openState(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			conds, err := st.AlertConditions(cmd.Context())
			if err != nil {
				return err
			}
			out := make([]alertJSON, 0, len(conds))
			for _, c := range conds {
				var d struct{ Title string }
				_ = json.Unmarshal([]byte(c.Details), &d) // unreadable details: the key says enough
				out = append(out, alertJSON{Condition: c.Key, Severity: c.Severity, Title: d.Title, Since: c.Since,
					Clearing: c.ClearedAt != nil, EscalationPriority: c.EscalationPriority, EscalationLevel: c.EscalationLevel,
					AcknowledgedAt: c.AckedAt, AcknowledgedBy: c.AckedBy})
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"alerts": out})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CONDITION\tSEVERITY\tSINCE\tPRIORITY\tLEVELS\tACKNOWLEDGED BY")
			for _, a := range out {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", a.Condition, a.Severity, a.Since.UTC().Format(time.RFC3339),
					a.EscalationPriority, a.EscalationLevel, a.AcknowledgedBy)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newAlertsAckCmd(g *globals) *cobra.Command {
	var by string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ack CONDITION [--by NAME]",
		Short: "Acknowledge an open alert condition: its escalation stops for the rest of the episode",
		Long: "Records the ack (who: NAME (cli:$USER)) on the condition in the state store and in the alert log.\n" +
			"The leader of acode serve reads it before it notifies the next level and passes it on once\n" +
			"(PagerDuty's acknowledge, \"Acknowledged by\" to the levels told). Acknowledging again keeps the first ack.\n" +
			"Exit 2 when no such condition is open (acode alerts list shows them).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := g.openState(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			who := "cli:" + os.Getenv("USER")
			if strings.TrimSpace(by) != "" {
				who = strings.TrimSpace(by) + " (" + who + ")"
			}
			c, err := st.Acknowledge(cmd.Context(), args[0], who, "cli", time.Now())
			if errors.Is(err, state.ErrNotFound) {
				return &exitError{code: exitConfig, err: fmt.Errorf("no open alert %q (acode alerts list shows the open ones)", args[0])}
			}
			if err != nil && c.AckedAt == nil {
				return err
			}
			if err != nil {
				g.log.Warn("acknowledged, but not recorded in the alert log", "condition", args[0], "err", err)
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"condition": c.Key, "severity": c.Severity,
					"acknowledged_at": c.AckedAt, "acknowledged_by": c.AckedBy, "escalation_level": c.EscalationLevel})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s acknowledged by %s at %s (escalation levels notified: %d)\n",
				c.Key, c.AckedBy, c.AckedAt.UTC().Format(time.RFC3339), c.EscalationLevel)
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", "", "who takes it (recorded as NAME (cli:$USER))")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
