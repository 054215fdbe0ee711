// Package examples embeds the example project so `acode demo` runs from the
// binary alone, on the same files a user copies to start.
package examples

import "embed"

// Project is examples/acode-project: the seed's three files unchanged, the
// backup and local variants, and acode.yaml with every default.
//
//go:embed all:acode-project
var Project embed.FS
