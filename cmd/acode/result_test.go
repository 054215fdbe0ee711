package main

import (
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/syncer"
)

func TestPrintResult_WarnsOfNulledValues(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	printResult(&b, &syncer.Result{Status: "succeeded", Streams: []syncer.StreamResult{
		{Name: "vendas", Status: "committed", NulledValues: map[string]int64{"dt_legado": 3, "dt": 1}},
		{Name: "produtos", Status: "committed"},
	}})
	out := b.String()
	if !strings.Contains(out, "warning: vendas: dt 1, dt_legado 3 written as NULL") || strings.Contains(out, "warning: produtos") {
		t.Errorf("output:\n%s", out)
	}
}
