package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/configexport"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/storage"
	"github.com/acode-dev/acode/internal/storage/s3"
)

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Back up the project (Octavia tree, acode.yaml, connection ids) as one JSON document, and restore it",
	}
	cmd.AddCommand(newConfigExportCmd(g), newConfigImportCmd(g))
	return cmd
}

// bucketFlags say how to reach a bucket named by an s3:// URL.
type bucketFlags struct {
	destination, endpoint, region string
}

func (b *bucketFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&b.destination, "destination", "", "reach the s3:// bucket with this S3 destination's endpoint, region and credentials (default: the first S3 destination of the project)")
	cmd.Flags().StringVar(&b.endpoint, "endpoint", "", "S3-compatible endpoint for the s3:// bucket, with the default AWS credential chain (instead of a destination's)")
	cmd.Flags().StringVar(&b.region, "region", "", "region of the s3:// bucket with --endpoint")
}

// open reaches bucket: through --endpoint and the default credential chain,
// else through a destination of p (when p is not nil).
func (b *bucketFlags) open(cmd *cobra.Command, p *config.Project, bucket string) (storage.Store, error) {
	if b.endpoint != "" || b.region != "" || p == nil {
		st, err := s3.New(cmd.Context(), s3.Config{Bucket: bucket, Endpoint: b.endpoint, Region: b.region})
		if err != nil {
			return nil, &exitError{code: exitConfig, err: err}
		}
		return st, nil
	}
	name := b.destination
	if name == "" {
		for _, n := range sortedKeys(p.Destinations) {
			if p.Destinations[n].Kind == "s3" {
				name = n
				break
			}
		}
	}
	dst, ok := p.Destinations[name]
	if !ok {
		return nil, &exitError{code: exitConfig, err: fmt.Errorf("--destination %q: no such destination (and no --endpoint)", name)}
	}
	st, err := connect.BucketStore(cmd.Context(), bucket, dst)
	if err != nil {
		return nil, &exitError{code: exitConfig, err: err}
	}
	return st, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// parseS3URL splits s3://bucket/key-or-prefix; ok is false for anything else.
func parseS3URL(u string) (bucket, key string, ok bool) {
	rest, found := strings.CutPrefix(u, "s3://")
	if !found {
		return "", "", false
	}
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, strings.Trim(key, "/"), bucket != ""
}

func newConfigExportCmd(g *globals) *cobra.Command {
	var (
		to     string
		asJSON bool
		bf     bucketFlags
	)
	cmd := &cobra.Command{
		Use:   "export [--to s3://BUCKET/PREFIX|DIR]",
		Short: "Write the project as one JSON document; secrets stay ${VAR} references",
		Long: "Reads acode.yaml and the Octavia tree's configuration.yaml and state_*.yaml files as written (no\n" +
			"variable expanded) and prints them, with each connection's Airbyte id, as one JSON document. A secret\n" +
			"written literally in a file is replaced by a ${VAR} reference named after its resource and key\n" +
			"(listed under \"redacted\"), so the document never holds a password or key. --to DIR writes\n" +
			"DIR/acode-connections-YYYYMM.json; --to s3://BUCKET/PREFIX uploads PREFIX/acode-connections-YYYYMM.json,\n" +
			"reaching the bucket like the project's S3 destination (or --destination, or --endpoint).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := g.project()
			if err != nil {
				return err
			}
			doc, err := configexport.Export(p, time.Now())
			if err != nil {
				return err
			}
			for _, r := range doc.Redacted {
				g.log.Warn("config export: a literal secret was replaced by a reference; set the variable before loading a restored tree",
					"file", r.File, "line", r.Line, "key", r.Key, "variable", r.Variable)
			}
			where, err := exportTo(cmd, p, doc, to, &bf)
			if err != nil || where == "" {
				return err
			}
			return printExported(cmd, doc, where, asJSON)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "s3://BUCKET/PREFIX or a directory (default: print the document)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print where the document went as JSON")
	bf.register(cmd)
	return cmd
}

// exportTo stores doc where --to says and returns its location; "" when
// the document was printed.
func exportTo(cmd *cobra.Command, p *config.Project, doc *configexport.Document, to string, bf *bucketFlags) (string, error) {
	if to == "" {
		return "", configexport.Encode(cmd.OutOrStdout(), doc)
	}
	if bucket, prefix, ok := parseS3URL(to); ok {
		st, err := bf.open(cmd, p, bucket)
		if err != nil {
			return "", err
		}
		key, err := configexport.Upload(cmd.Context(), st, prefix, doc)
		if err != nil {
			return "", &exitError{code: exitDestination, err: err}
		}
		return st.Location(key), nil
	}
	if strings.Contains(to, "://") {
		return "", &exitError{code: exitConfig, err: fmt.Errorf("--to %q: want s3://BUCKET/PREFIX or a directory", to)}
	}
	path, err := configexport.WriteFile(to, doc)
	if err != nil {
		return "", &exitError{code: exitDestination, err: err}
	}
	return path, nil
}

func printExported(cmd *cobra.Command, doc *configexport.Document, where string, asJSON bool) error {
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"location": where, "files": len(doc.Files),
			"connections": doc.Connections, "variables": doc.Variables, "redacted": doc.Redacted})
	}
	fmt.Fprintf(out, "exported %d files and %d connections to %s\n", len(doc.Files), len(doc.Connections), where)
	if len(doc.Redacted) > 0 {
		fmt.Fprintf(out, "%d literal secrets were replaced by references (see the log)\n", len(doc.Redacted))
	}
	return nil
}

func newConfigImportCmd(g *globals) *cobra.Command {
	var (
		into  string
		force bool
		bf    bucketFlags
	)
	cmd := &cobra.Command{
		Use:   "import FILE|s3://BUCKET/KEY --into DIR",
		Short: "Write a project tree back from a config export document",
		Long: "Checks the whole document first (format, paths, each file's SHA-256), then writes its files under\n" +
			"--into, each through a temp file and a rename. Existing files are left alone unless --force. Prints the\n" +
			"environment variables the restored tree references: set them before using it. An s3:// document is\n" +
			"read with --endpoint/--region and the default AWS credential chain, or like a destination of the\n" +
			"--config project when that loads.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if into == "" {
				return &exitError{code: exitConfig, err: errors.New("--into DIR is required")}
			}
			doc, err := readExport(cmd, g, args[0], &bf)
			if err != nil {
				return err
			}
			written, err := configexport.Import(doc, into, force)
			if err != nil {
				if errors.Is(err, configexport.ErrExists) {
					return &exitError{code: exitConfig, err: err}
				}
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "wrote %d files under %s\n", len(written), into)
			if len(doc.Variables) > 0 {
				fmt.Fprintf(out, "set before use: %s\n", strings.Join(doc.Variables, " "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&into, "into", "", "directory to write the project into")
	cmd.Flags().BoolVar(&force, "force", false, "replace files that already exist")
	bf.register(cmd)
	return cmd
}

func readExport(cmd *cobra.Command, g *globals, from string, bf *bucketFlags) (*configexport.Document, error) {
	bucket, key, ok := parseS3URL(from)
	if !ok {
		data, err := os.ReadFile(filepath.Clean(from))
		if err != nil {
			return nil, &exitError{code: exitConfig, err: fmt.Errorf("read config export: %w", err)}
		}
		doc, err := configexport.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, &exitError{code: exitConfig, err: err}
		}
		return doc, nil
	}
	var p *config.Project
	if bf.endpoint == "" && bf.region == "" {
		loaded, err := g.project()
		if err != nil {
			return nil, err
		}
		p = loaded
	}
	st, err := bf.open(cmd, p, bucket)
	if err != nil {
		return nil, err
	}
	doc, err := configexport.Fetch(cmd.Context(), st, key)
	if err != nil {
		var de *configexport.Error
		if errors.As(err, &de) {
			return nil, &exitError{code: exitConfig, err: err}
		}
		return nil, &exitError{code: exitDestination, err: err}
	}
	return doc, nil
}
