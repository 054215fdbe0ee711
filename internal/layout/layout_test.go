package layout

import (
	"testing"
	"time"
)

func TestForStream_SeedLayout(t *testing.T) {
	at := time.Date(2025, 8, 7, 2, 3, 4, 5_000_000, time.FixedZone("BRT", -3*3600))
	s := ForStream("origin=airbyte/database=bronze_acode",
		"${STREAM_NAME}/cog_dt_ingestion=${YEAR}-${MONTH}-${DAY}/file_${STREAM_NAME}",
		Vars{Namespace: "acode_farmarcas", Stream: "farmarcas_si_analitico_diario", Time: at})
	if want := "origin=airbyte/database=bronze_acode/farmarcas_si_analitico_diario/cog_dt_ingestion=2025-08-07"; s.Partition != want {
		t.Errorf("partition = %q, want %q", s.Partition, want)
	}
	if got, want := s.PartKey(42, 1), s.Partition+"/file_farmarcas_si_analitico_diario_20250807_42_001.parquet"; got != want {
		t.Errorf("part key = %q, want %q", got, want)
	}
	if got := s.ManifestKey(); got != s.Partition+"/_acode_manifest.json" {
		t.Errorf("manifest key = %q", got)
	}
}

func TestRender_AllVariables(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	got := Render("${NAMESPACE}|${STREAM_NAME}|${YEAR}|${MONTH}|${DAY}|${HOUR}|${MINUTE}|${SECOND}|${MILLISECOND}|${EPOCH}|${UUID}|${OTHER}",
		Vars{Namespace: "ns", Stream: "st", Time: at, UUID: "u-1"})
	want := "ns|st|2025|01|02|03|04|05|0006|1735787045006|u-1|${OTHER}"
	if got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}

func TestForStream_DefaultFormatKeepsPrefixInName(t *testing.T) {
	at := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	s := ForStream("bronze/", "", Vars{Namespace: "ns", Stream: "st", Time: at})
	if s.Partition != "bronze/ns/st" {
		t.Errorf("partition = %q", s.Partition)
	}
	if got := s.PartName(7, 12); got != "2025_01_02_1735776000000_20250102_7_012.parquet" {
		t.Errorf("part name = %q", got)
	}
}

func TestIsPart(t *testing.T) {
	for key, want := range map[string]bool{
		"a/b/file_x_001.parquet":   true,
		"a/b/_acode_manifest.json": false,
		"a/b/_SUCCESS":             false,
		"a/b/.acode-tmp-1.parquet": false,
		"a/b/_x.parquet":           false,
	} {
		if got := IsPart(key); got != want {
			t.Errorf("IsPart(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestPartNumber_ReadsBackWhatPartNameWrote(t *testing.T) {
	s := ForStream("bronze", "${STREAM_NAME}/dt=${YEAR}/file_${STREAM_NAME}",
		Vars{Stream: "st", Time: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)})
	for _, n := range []int{1, 12, 999, 1000, 12345} {
		if got, ok := s.PartNumber(7, s.PartKey(7, n)); !ok || got != n {
			t.Errorf("PartNumber(PartKey(7, %d)) = %d, %v", n, got, ok)
		}
	}
	for _, name := range []string{
		s.PartName(8, 3),  // another job
		"range-3.parquet", // a staging key
		"file_st_20250102_7_x.parquet",
		"file_st_20250102_7_003.json",
	} {
		if n, ok := s.PartNumber(7, name); ok {
			t.Errorf("PartNumber(%q) = %d, want not a part of job 7", name, n)
		}
	}
}
