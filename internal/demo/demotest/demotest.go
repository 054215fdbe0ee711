// Package demotest fills a test's MariaDB with the ACODE tables. It lives
// apart from internal/testenv so that the demo package's own tests can use
// testenv without an import cycle.
package demotest

import (
	"context"
	"testing"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/testenv"
)

// Fill creates the three ACODE tables in database on m and fills them
// with the demo generator, as `acode demo` does.
func Fill(t testing.TB, m *testenv.MariaDB, database string, opts demo.Options) demo.Counts {
	t.Helper()
	ctx := context.Background()
	if err := demo.CreateSchema(ctx, m.Root(t), database); err != nil {
		t.Fatal(err)
	}
	counts, err := demo.Fill(ctx, m.Root(t), database, opts)
	if err != nil {
		t.Fatal(err)
	}
	return counts
}
