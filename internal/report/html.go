package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"
)

// The plot's geometry, in SVG user units.
const (
	plotW, plotH         = 760.0, 240.0
	plotLeft, plotBottom = 60.0, 30.0
	plotTop, plotRight   = 20.0, 60.0
)

// plot is the SVG of rows (bars, left axis) and sync duration p50 (line,
// right axis) per day, computed here so the page needs no script.
type plot struct {
	W, H               float64
	Bars               []bar
	Line               string // polyline points
	Points             []point
	MaxRows, MaxSecond string
	X0, X1, Y0, Y1     float64
}

type bar struct {
	X, Y, W, H float64
	Label      string
	Title      string
}

type point struct {
	X, Y  float64
	Title string
}

func newPlot(days []Day) plot {
	p := plot{W: plotW, H: plotH, X0: plotLeft, X1: plotW - plotRight, Y0: plotH - plotBottom, Y1: plotTop}
	var maxRows int64
	var maxSec float64
	for _, d := range days {
		maxRows = max(maxRows, d.Rows)
		maxSec = max(maxSec, d.P50Seconds)
	}
	p.MaxRows, p.MaxSecond = fmt.Sprint(maxRows), fmt.Sprintf("%.1f s", maxSec)
	if len(days) == 0 {
		return p
	}
	slot := (p.X1 - p.X0) / float64(len(days))
	height := p.Y0 - p.Y1
	var pts []string
	for i, d := range days {
		x := p.X0 + float64(i)*slot
		h := 0.0
		if maxRows > 0 {
			h = height * float64(d.Rows) / float64(maxRows)
		}
		p.Bars = append(p.Bars, bar{X: x + slot*0.15, Y: p.Y0 - h, W: slot * 0.7, H: h, Label: d.Date[5:],
			Title: fmt.Sprintf("%s: %d rows, %d jobs", d.Date, d.Rows, d.Jobs)})
		y := p.Y0
		if maxSec > 0 {
			y = p.Y0 - height*d.P50Seconds/maxSec
		}
		cx := x + slot/2
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", cx, y))
		p.Points = append(p.Points, point{X: cx, Y: y, Title: fmt.Sprintf("%s: p50 %.1f s, p95 %.1f s", d.Date, d.P50Seconds, d.P95Seconds)})
	}
	p.Line = strings.Join(pts, " ")
	return p
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(x float64) string { return fmt.Sprintf("%.3f%%", x*100) },
	"f1":  func(x float64) string { return fmt.Sprintf("%.1f", x) },
	"yes": yesNo,
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.R.Title}}</title>
<style>
body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:1.5em}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}th{background:#eee}td:first-child{text-align:left}
.no{color:#b00;font-weight:bold}.yes{color:#070}
</style></head><body>
<h1>{{.R.Title}}</h1>
<h2>Availability (target 99.9%)</h2>
<table id="availability"><tr><th>pair</th><th>rounds</th><th>usable</th><th>availability</th><th>met</th><th>downtime min</th><th>budget left min</th></tr>
{{range .R.Availability}}<tr><td>{{.Pair}}</td><td>{{.Rounds}}</td><td>{{.Usable}}</td><td>{{pct .Share}}</td><td class="{{yes .Met}}">{{yes .Met}}</td><td>{{f1 .UsedMinutes}}</td><td>{{f1 .LeftMinutes}} of {{f1 .BudgetMinutes}}</td></tr>
{{end}}</table>
<h2>Syncs per day</h2>
<p>{{.R.Syncs.Jobs}} jobs, {{.R.Syncs.Succeeded}} succeeded, {{.R.Syncs.Failed}} failed; {{.R.Syncs.Rows}} rows; duration p50 {{f1 .R.Syncs.P50Seconds}} s, p95 {{f1 .R.Syncs.P95Seconds}} s.</p>
<svg id="plot" xmlns="http://www.w3.org/2000/svg" width="{{.P.W}}" height="{{.P.H}}" viewBox="0 0 {{.P.W}} {{.P.H}}" role="img" aria-label="rows and sync duration per day">
<line x1="{{.P.X0}}" y1="{{.P.Y0}}" x2="{{.P.X1}}" y2="{{.P.Y0}}" stroke="#444"/>
<line x1="{{.P.X0}}" y1="{{.P.Y0}}" x2="{{.P.X0}}" y2="{{.P.Y1}}" stroke="#444"/>
<text x="4" y="{{.P.Y1}}" font-size="10">{{.P.MaxRows}} rows</text>
<text x="{{.P.X1}}" y="{{.P.Y1}}" font-size="10">{{.P.MaxSecond}}</text>
{{range .P.Bars}}<rect class="rows" x="{{f1 .X}}" y="{{f1 .Y}}" width="{{f1 .W}}" height="{{f1 .H}}" fill="#4a7ab5"><title>{{.Title}}</title></rect>
<text x="{{f1 .X}}" y="{{$.LabelY}}" font-size="9">{{.Label}}</text>
{{end}}<polyline points="{{.P.Line}}" fill="none" stroke="#d9822b" stroke-width="2"/>
{{range .P.Points}}<circle class="p50" cx="{{f1 .X}}" cy="{{f1 .Y}}" r="3" fill="#d9822b"><title>{{.Title}}</title></circle>
{{end}}</svg>
<table id="days"><tr><th>day</th><th>jobs</th><th>succeeded</th><th>failed</th><th>rows</th><th>bytes</th><th>p50 s</th><th>p95 s</th></tr>
{{range .R.Days}}<tr><td>{{.Date}}</td><td>{{.Jobs}}</td><td>{{.Succeeded}}</td><td>{{.Failed}}</td><td>{{.Rows}}</td><td>{{.Bytes}}</td><td>{{f1 .P50Seconds}}</td><td>{{f1 .P95Seconds}}</td></tr>
{{end}}</table>
<h2>Data freshness (SLA 24 h)</h2>
<table id="freshness"><tr><th>target</th><th>checks</th><th>stale</th><th>stale hours</th><th>compliance</th></tr>
{{range .R.Freshness}}<tr><td>{{.Target}}</td><td>{{.Checks}}</td><td>{{.Stale}}</td><td>{{f1 .StaleHours}}</td><td>{{pct .Compliance}}</td></tr>
{{end}}</table>
<h2>Failovers (RTO target 2 h)</h2>
<table id="failovers"><tr><th>pair</th><th>class</th><th>by</th><th>detected</th><th>switched</th><th>RTO s</th><th>met</th><th>failed back</th></tr>
{{range .R.Failovers}}<tr><td>{{.Pair}}</td><td>{{.Class}}</td><td>{{.Who}}</td><td>{{.DetectedAt.Format "2006-01-02 15:04:05"}}</td><td>{{.SwitchedAt.Format "2006-01-02 15:04:05"}}</td><td>{{f1 .RTOSeconds}}</td><td class="{{yes .RTOMet}}">{{yes .RTOMet}}</td><td>{{if .BackAt}}{{.BackAt.Format "2006-01-02 15:04:05"}}{{else}}-{{end}}</td></tr>
{{end}}</table>
<h2>Quality</h2>
<table id="quality"><tr><th>connection</th><th>stream</th><th>reports</th><th>mean score</th><th>min score</th><th>quarantined</th></tr>
{{range .R.Quality}}<tr><td>{{.Connection}}</td><td>{{.Stream}}</td><td>{{.Reports}}</td><td>{{printf "%.2f" .MeanScore}}</td><td>{{printf "%.2f" .MinScore}}</td><td>{{.Quarantined}}</td></tr>
{{end}}</table>
<h2>Storage and growth</h2>
<table id="storage"><tr><th>connection</th><th>stream</th><th>partitions</th><th>bytes</th><th>new partitions</th><th>bytes added</th><th>rows before</th><th>rows at end</th></tr>
{{range .R.Storage}}<tr><td>{{.Connection}}</td><td>{{.Stream}}</td><td>{{.Partitions}}</td><td>{{.Bytes}}</td><td>{{.NewInPeriod}}</td><td>{{.BytesAdded}}</td><td>{{.RowsBefore}}</td><td>{{.RowsAtEnd}}</td></tr>
{{end}}</table>
<h2>Source tables (information_schema, weekly)</h2>
<table id="tables"><tr><th>source</th><th>table</th><th>rows before</th><th>rows at end</th><th>data bytes before</th><th>data bytes at end</th><th>index bytes at end</th></tr>
{{range .R.Tables}}<tr><td>{{.Source}}</td><td>{{.Schema}}.{{.Table}}</td><td>{{.RowsBefore}}</td><td>{{.RowsAtEnd}}</td><td>{{.DataBytesBefore}}</td><td>{{.DataBytesAtEnd}}</td><td>{{.IndexBytesAtEnd}}</td></tr>
{{end}}</table>
</body></html>
`))

func writeHTML(w io.Writer, r *Report) error {
	p := newPlot(r.Days)
	return page.Execute(w, map[string]any{"R": r, "P": p, "LabelY": p.Y0 + 14})
}
