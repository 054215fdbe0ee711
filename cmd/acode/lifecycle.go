package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/lifecycle"
)

func newLifecycleCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lifecycle plan|apply",
		Short: "Keep acode.yaml's S3 lifecycle rules (the seed's by default) on the buckets",
	}
	cmd.AddCommand(newLifecycleSubCmd(g, "plan"), newLifecycleSubCmd(g, "apply"))
	return cmd
}

func newLifecycleSubCmd(g *globals, verb string) *cobra.Command {
	var asJSON bool
	short := "Show how each bucket's lifecycle configuration differs from acode.yaml's rules"
	if verb == "apply" {
		short = "Write acode.yaml's lifecycle rules to each bucket (rules whose id does not start acode_ are kept); nothing is written when nothing differs"
	}
	cmd := &cobra.Command{
		Use:   verb,
		Short: short,
		Long: short + ".\n\nThe rules are lifecycle.rules of acode.yaml, or by default the seed's on every failover pair: the backup\n" +
			"destination's prefix to STANDARD_IA at 30 days, GLACIER at 90, DEEP_ARCHIVE at 365; acode_historical/ beside the\n" +
			"primary's data to GLACIER at once, expired after 2555 days; and on every bucket, incomplete multipart uploads\n" +
			"aborted after lifecycle.abort_incomplete_uploads_days (longer than jobs.max_duration).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := g.project()
			if err != nil {
				return err
			}
			plans, err := lifecyclePlans(cmd, p, verb == "apply")
			if err != nil {
				return err
			}
			return printLifecycle(cmd, plans, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	return cmd
}

// bucketOutcome is one bucket's plan and, after apply, whether it was written.
type bucketOutcome struct {
	lifecycle.BucketPlan
	Written bool `json:"written"`
}

func lifecyclePlans(cmd *cobra.Command, p *config.Project, apply bool) ([]bucketOutcome, error) {
	rules, err := p.LifecycleRules()
	if err != nil {
		return nil, &exitError{code: exitConfig, err: err}
	}
	if len(rules) == 0 {
		return nil, &exitError{code: exitConfig, err: errors.New("no lifecycle rule applies: no failover pair writes to S3 and lifecycle.rules is empty")}
	}
	var out []bucketOutcome
	for i, r := range rules {
		if i > 0 && rules[i-1].Bucket == r.Bucket {
			continue
		}
		st, err := connect.BucketStore(cmd.Context(), r.Bucket, r.Via)
		if err != nil {
			return nil, &exitError{code: exitConfig, err: err}
		}
		plan, err := lifecycle.Plan(cmd.Context(), st.Client(), r.Bucket, rules)
		if err != nil {
			return nil, lifecycleError(err)
		}
		o := bucketOutcome{BucketPlan: plan}
		if apply {
			if o.Written, err = lifecycle.Apply(cmd.Context(), st.Client(), plan); err != nil {
				return nil, lifecycleError(err)
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// lifecycleError says plainly when the S3 server lacks the API.
func lifecycleError(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented" {
		err = fmt.Errorf("the S3 server does not implement bucket lifecycle configuration: %w", err)
	}
	return &exitError{code: exitDestination, err: err}
}

func printLifecycle(cmd *cobra.Command, plans []bucketOutcome, asJSON bool) error {
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"buckets": plans})
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BUCKET\tRULE\tACTION\tHAVE\tWANT")
	for _, b := range plans {
		for _, c := range b.Changes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Bucket, c.ID, c.Action, dash(c.Have), dash(c.Want))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, b := range plans {
		switch {
		case b.Written:
			fmt.Fprintf(out, "%s: lifecycle configuration written\n", b.Bucket)
		case !b.Changed():
			fmt.Fprintf(out, "%s: up to date\n", b.Bucket)
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
