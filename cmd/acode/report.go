package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/report"
)

func newReportCmd(g *globals) *cobra.Command {
	var month, end, format string
	cmd := &cobra.Command{
		Use:   "report weekly|monthly [--month YYYY-MM] [--format markdown|json|html]",
		Short: "The seed's SLA report of a week or a month from the state store: availability vs 99.9%, freshness, syncs per day, failovers with RTO, quality",
		Long: "weekly: the 7 days before --end (default today, UTC); monthly: --month (default last month). Availability is the\n" +
			"share of health rounds in which a pair's primary or backup source answered, against 99.9% and its downtime budget;\n" +
			"freshness counts data_freshness checks over the 24 h SLA; syncs per day with duration p50/p95, rows and bytes;\n" +
			"each failover with the time from the primary's first failing check to the backup serving (RTO, target 2 h);\n" +
			"quality scores per stream. --format html adds an SVG plot of rows and sync duration per day.",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{report.Weekly, report.Monthly},
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := args[0]
			anchor := time.Now().UTC()
			switch kind {
			case report.Weekly:
				if end != "" {
					d, err := parseDay(end)
					if err != nil {
						return err
					}
					anchor = d
				}
			case report.Monthly:
				m, err := parseMonth(month, anchor.AddDate(0, -1, 0))
				if err != nil {
					return err
				}
				anchor = m
			default:
				return &exitError{code: exitConfig, err: errors.New("want weekly or monthly")}
			}
			from, to, err := report.Period(kind, anchor)
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			p, st, err := g.projectState(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			r, err := report.Build(cmd.Context(), st, p, kind, from, to)
			if err != nil {
				return err
			}
			if err := report.Render(cmd.OutOrStdout(), r, format); err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&month, "month", "", "monthly: the month, YYYY-MM (default: last month)")
	cmd.Flags().StringVar(&end, "end", "", "weekly: the day after the week, YYYY-MM-DD (default: today)")
	cmd.Flags().StringVar(&format, "format", report.FormatMarkdown, "markdown, json or html")
	return cmd
}
