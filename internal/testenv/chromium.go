package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

const chromiumInstallHint = "run scripts/test-deps.sh (apt-get install -y chromium)"

// Browser is a headless Chromium driven over the DevTools protocol. It
// records every console error, uncaught exception, failed load and
// content-security-policy violation, so a test can assert a page has none.
type Browser struct {
	t   testing.TB
	ctx context.Context

	mu         sync.Mutex
	problems   []string
	promptText string
}

// Chromium starts Debian's chromium headless with a fresh profile and the
// flags that keep it off the network (this machine has none), and stops it
// when the test ends. A missing binary fails the test with the install
// command.
func Chromium(t testing.TB) *Browser {
	t.Helper()
	SkipShort(t, "Chromium")
	bin, err := findChromium()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "chromium.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1400, 1000),
		chromedp.CombinedOutput(logFile),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	b := &Browser{t: t, ctx: ctx}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		wg.Wait()
		logFile.Close()
	})
	// The first Run starts the browser and binds it to ctx: no timeout here.
	if err := chromedp.Do(ctx); err != nil {
		out, _ := os.ReadFile(logPath)
		t.Fatalf("start chromium %s: %v\n%s", bin, err, out)
	}
	console := chromedp.Console(ctx)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
				b.problem("%s %s: %s (%s:%d)", m.Source, m.Type, m.Text, m.URL, m.Line+1)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for _, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			text := b.promptText
			b.mu.Unlock()
			if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog,
				page.HandleJavaScriptDialogParams{Accept: true, PromptText: text}); err != nil {
				b.problem("answer dialog: %v", err)
			}
		}
	}()
	return b
}

func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	return "", errors.New("chromium not found: " + chromiumInstallHint)
}

func (b *Browser) problem(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
}

// Problems returns what went wrong on the pages so far: console errors and
// warnings, uncaught exceptions, failed loads, CSP violations.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// AnswerDialogs makes every later alert, confirm or prompt be accepted,
// prompts with text.
func (b *Browser) AnswerDialogs(text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.promptText = text
}

// SetHeaders makes every later request of the tab carry these headers,
// e.g. Authorization for a page behind basic auth.
func (b *Browser) SetHeaders(h map[string]string) {
	b.t.Helper()
	hs := network.Headers{}
	for k, v := range h {
		hs[k] = v
	}
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		b.t.Fatalf("chromium: enable network: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: hs}); err != nil {
		b.t.Fatalf("chromium: set headers: %v", err)
	}
}

// Context is the browser tab's context, for chromedp.Run and
// chromedp.Do with actions the helpers below do not cover.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs actions in the browser's tab within 60 s, failing the test on an
// error.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("chromium: %v (page problems: %q)", err, b.Problems())
	}
}

// Text returns the visible text of the first element sel (CSS) matches.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("chromium: text of %s: %v (page problems: %q)", sel, err, b.Problems())
	}
	return s
}

// Eval evaluates a JavaScript expression and decodes its value into T.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("chromium: evaluate %s: %v (page problems: %q)", expr, err, b.Problems())
	}
	return v
}

// Screenshot saves a PNG of the whole page as name.png in the test's temp
// dir, and in $ACODE_ARTIFACTS when that is set, logs where, and returns
// the path of the copy that outlives the test (or the temp one).
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	png, err := b.screenshot(ctx)
	if err != nil {
		b.t.Fatalf("chromium: screenshot: %v", err)
	}
	path := filepath.Join(b.t.TempDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	if dir := os.Getenv("ACODE_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatal(err)
		}
		path = filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
		b.t.Logf("screenshot copied to %s", path)
	}
	return path
}

// screenshot takes a full-page PNG once the page is laid out. A page that
// reloads itself (the status page does after a switch) has no layout for a
// moment, and Chromium refuses a screenshot of zero width then: poll until
// the page is complete and wide, and retry a refused capture until ctx ends.
func (b *Browser) screenshot(ctx context.Context) ([]byte, error) {
	const ready = `document.readyState === "complete" && document.documentElement.scrollWidth > 0`
	last := errors.New("the page never finished loading")
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](ready))
		switch {
		case err != nil:
			last = err
		case ok:
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err == nil {
				return png, nil
			}
			last = err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (waited until %v)", last, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
