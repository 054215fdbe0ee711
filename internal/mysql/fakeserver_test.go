package mysql

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/acode-dev/acode/internal/schema"
)

// fakeServer is a MySQL server inside the test process, so that the real
// Open and ReadRange (driver, dialer, NextRaw) can be measured and checked
// without a database. It speaks only what they use: the HandshakeV10 with
// mysql_native_password, COM_PING, COM_QUIT and COM_QUERY. Any statement
// but a SELECT (the session SETs Open sends, START TRANSACTION, ROLLBACK)
// gets OK; a SELECT it was given a result for gets that result, any other
// SELECT an error, so a query the fake does not know fails loudly instead of
// reading nothing.
//
// Results are encoded once, before the first connection, and every query
// replays the same bytes: a benchmark through the fake then measures the
// client, not the server. They assume CLIENT_PROTOCOL_41 and
// CLIENT_DEPRECATE_EOF, which the driver always asks for and the fake
// insists on: no EOF packet after the column definitions, and the rows end
// with an OK packet with an 0xFE header.
type fakeServer struct {
	ln      net.Listener
	results map[string][]byte // query text → encoded response; read-only once serving

	mu     sync.Mutex
	conns  map[net.Conn]bool // open connections, closed at shutdown
	closed bool
	wg     sync.WaitGroup // the accept loop and one per connection
}

// fakeResult is the response the fake server gives to one query.
type fakeResult struct {
	query    string
	response []byte
}

// The fake's one account. The salt is fixed: the fake has nothing to
// protect, and a fixed salt keeps its handshake bytes the same every run.
const (
	fakeUser     = "acode"
	fakePassword = "fake-password"
	fakeDatabase = "fake"
)

var fakeSalt = []byte("acode-fake-salt-0123") // 20 bytes, no NUL: the handshake NUL-terminates its second part

// Protocol constants, named as in the MySQL documentation.
const (
	capLongPassword      = 1 << 0 // also says "MySQL": the driver then expects no MariaDB extended capabilities
	capLongFlag          = 1 << 2
	capConnectWithDB     = 1 << 3
	capProtocol41        = 1 << 9
	capTransactions      = 1 << 13
	capSecureConnection  = 1 << 15
	capMultiResults      = 1 << 17
	capPluginAuth        = 1 << 19
	capConnectAttrs      = 1 << 20
	capPluginAuthLenenc  = 1 << 21
	capDeprecateEOF      = 1 << 24
	fakeCapabilities     = capLongPassword | capLongFlag | capConnectWithDB | capProtocol41 | capTransactions | capSecureConnection | capMultiResults | capPluginAuth | capConnectAttrs | capPluginAuthLenenc | capDeprecateEOF
	fakeNeededFromClient = capProtocol41 | capDeprecateEOF | capSecureConnection | capPluginAuthLenenc

	comQuitByte  = 0x01
	comQueryByte = 0x03
	comPingByte  = 0x0e

	statusAutocommit = 0x0002
	collationUTF8MB4 = 45 // utf8mb4_general_ci
	collationBinary  = 63

	fieldFlagNotNull  = 1
	fieldFlagPriKey   = 2
	fieldFlagUnsigned = 32
	fieldFlagBinary   = 128
)

// fakeFieldTypes maps the information_schema DATA_TYPE of a column to the
// protocol's column type, for the types the fake's tables use.
var fakeFieldTypes = map[string]byte{
	"int":        0x03, // MYSQL_TYPE_LONG
	"bigint":     0x08, // MYSQL_TYPE_LONGLONG
	"date":       0x0a, // MYSQL_TYPE_DATE
	"decimal":    0xf6, // MYSQL_TYPE_NEWDECIMAL
	"mediumtext": 0xfc, // MYSQL_TYPE_BLOB
	"varchar":    0xfd, // MYSQL_TYPE_VAR_STRING
	"char":       0xfe, // MYSQL_TYPE_STRING
	"binary":     0xfe,
}

var (
	// okPayload is an OK packet: no rows affected, no insert id,
	// autocommit, no warnings.
	okPayload = []byte{0x00, 0, 0, statusAutocommit, 0, 0, 0}
	// endOfRowsPayload ends a result set under CLIENT_DEPRECATE_EOF: an OK
	// packet with an 0xFE header.
	endOfRowsPayload = []byte{0xfe, 0, 0, statusAutocommit, 0, 0, 0}
	// okReply answers a command: its responses start at sequence id 1.
	okReply = appendPacket(nil, 1, okPayload)
)

// startFakeServer listens on a free loopback port and answers with
// results; it stops, with every connection it accepted, at the end of tb.
func startFakeServer(tb testing.TB, results ...fakeResult) *fakeServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fake server: %v", err)
	}
	s := &fakeServer{ln: ln, conns: map[net.Conn]bool{}, results: map[string][]byte{
		// The driver asks at connect, since Open leaves MaxAllowedPacket 0.
		"SELECT @@max_allowed_packet": encodeResultSet(
			schema.Table{Columns: []schema.Column{{Name: "@@max_allowed_packet", DataType: "bigint"}}},
			1, func(_ int, p []byte) []byte { return appendLenEncString(p, "16777216") }),
	}}
	for _, r := range results {
		s.results[r.query] = r.response
	}
	s.wg.Add(1)
	go s.accept()
	tb.Cleanup(s.close)
	return s
}

// open is Open on the fake server; the pool is closed at the end of tb,
// before the server stops.
func (s *fakeServer) open(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := Open(context.Background(), ConnConfig{
		Host: "127.0.0.1", Port: s.ln.Addr().(*net.TCPAddr).Port, Database: fakeDatabase,
		User: fakeUser, Password: fakePassword, TLSMode: TLSDisabled,
	})
	if err != nil {
		tb.Fatalf("open the fake server: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func (s *fakeServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		if !s.track(c) {
			c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.serve(c)
		}()
	}
}

func (s *fakeServer) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = true
	return true
}

func (s *fakeServer) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

// close stops accepting, closes every connection (which ends its
// goroutine's read or write) and waits for all goroutines.
func (s *fakeServer) close() {
	s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// serve runs one connection until the client quits or goes away. An I/O
// error just ends it: a client that stops reading a result early closes
// its connection, as ReadRange does.
func (s *fakeServer) serve(c net.Conn) {
	r := bufio.NewReader(c)
	if err := handshake(c, r); err != nil {
		return
	}
	for {
		_, cmd, err := readPacket(r)
		if err != nil || len(cmd) == 0 {
			return
		}
		var reply []byte
		switch cmd[0] {
		case comQuitByte:
			return
		case comPingByte:
			reply = okReply
		case comQueryByte:
			reply = s.answer(string(cmd[1:]))
		default:
			reply = appendPacket(nil, 1, errPayload(1047, "08S01", fmt.Sprintf("fake server: unknown command %#x", cmd[0])))
		}
		if _, err := c.Write(reply); err != nil {
			return
		}
	}
}

func (s *fakeServer) answer(query string) []byte {
	if r, ok := s.results[query]; ok {
		return r
	}
	if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(query)), "SELECT") {
		return appendPacket(nil, 1, errPayload(1146, "42S02", "fake server has no result for: "+query))
	}
	return okReply
}

// handshake sends the HandshakeV10, checks the client's
// HandshakeResponse41 and answers OK, or an access-denied error that the
// client reports.
func handshake(c net.Conn, r *bufio.Reader) error {
	if _, err := c.Write(appendPacket(nil, 0, handshakeV10())); err != nil {
		return err
	}
	seq, resp, err := readPacket(r)
	if err != nil {
		return err
	}
	if err := checkLogin(resp); err != nil {
		_, _ = c.Write(appendPacket(nil, seq+1, errPayload(1045, "28000", err.Error())))
		return err
	}
	_, err = c.Write(appendPacket(nil, seq+1, okPayload))
	return err
}

func handshakeV10() []byte {
	b := []byte{10} // protocol version
	b = append(b, "8.0.99-acode-fake\x00"...)
	b = binary.LittleEndian.AppendUint32(b, 1) // connection id
	b = append(b, fakeSalt[:8]...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(fakeCapabilities&0xffff))
	b = append(b, collationUTF8MB4)
	b = binary.LittleEndian.AppendUint16(b, statusAutocommit)
	b = binary.LittleEndian.AppendUint16(b, uint16(fakeCapabilities>>16))
	b = append(b, byte(len(fakeSalt)+1))
	b = append(b, make([]byte, 10)...) // reserved
	b = append(b, fakeSalt[8:]...)
	b = append(b, 0)
	return append(b, "mysql_native_password\x00"...)
}

// checkLogin reads a HandshakeResponse41: capabilities, max packet size,
// collation, 23 bytes of filler, user, length-encoded auth response.
func checkLogin(p []byte) error {
	if len(p) < 32 {
		return errors.New("fake server: short handshake response")
	}
	if caps := binary.LittleEndian.Uint32(p); caps&fakeNeededFromClient != fakeNeededFromClient {
		return fmt.Errorf("fake server: client capabilities %#x lack %#x", caps, fakeNeededFromClient)
	}
	user, rest, ok := bytes.Cut(p[32:], []byte{0})
	// The 20-byte scramble always takes the one-byte length form.
	if !ok || len(rest) == 0 || rest[0] >= 0xfb || len(rest) < 1+int(rest[0]) {
		return errors.New("fake server: malformed handshake response")
	}
	auth := rest[1 : 1+int(rest[0])]
	if string(user) != fakeUser || !bytes.Equal(auth, nativePasswordScramble(fakeSalt, fakePassword)) {
		return fmt.Errorf("fake server: access denied for user %q", user)
	}
	return nil
}

// nativePasswordScramble is mysql_native_password's proof of the password:
// SHA1(password) XOR SHA1(salt + SHA1(SHA1(password))); empty for none.
func nativePasswordScramble(salt []byte, password string) []byte {
	if password == "" {
		return nil
	}
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	h3 := sha1.Sum(append(slices.Clone(salt), h2[:]...))
	for i := range h3 {
		h3[i] ^= h1[i]
	}
	return h3[:]
}

// readPacket reads one packet. The fake never receives one of 16 MiB or
// more, so it does not join split packets.
func readPacket(r *bufio.Reader) (seq byte, payload []byte, err error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	payload = make([]byte, int(h[0])|int(h[1])<<8|int(h[2])<<16)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return h[3], payload, nil
}

// appendPacket appends payload as one packet: 3-byte length, sequence id.
func appendPacket(b []byte, seq byte, payload []byte) []byte {
	if len(payload) >= 0xffffff {
		panic("fake server: packets of 16 MiB or more are not split")
	}
	n := len(payload)
	b = append(b, byte(n), byte(n>>8), byte(n>>16), seq)
	return append(b, payload...)
}

func errPayload(code uint16, sqlState, msg string) []byte {
	b := binary.LittleEndian.AppendUint16([]byte{0xff}, code)
	b = append(b, '#')
	b = append(b, sqlState...)
	return append(b, msg...)
}

func appendLenEncInt(b []byte, n uint64) []byte {
	switch {
	case n < 0xfb:
		return append(b, byte(n))
	case n < 1<<16:
		return append(b, 0xfc, byte(n), byte(n>>8))
	case n < 1<<24:
		return append(b, 0xfd, byte(n), byte(n>>8), byte(n>>16))
	default:
		return binary.LittleEndian.AppendUint64(append(b, 0xfe), n)
	}
}

func appendLenEncString[T ~string | ~[]byte](b []byte, s T) []byte {
	return append(appendLenEncInt(b, uint64(len(s))), s...)
}

// appendLenEncValue appends a text-protocol value: 0xFB for NULL (nil).
func appendLenEncValue(b []byte, v []byte) []byte {
	if v == nil {
		return append(b, 0xfb)
	}
	return appendLenEncString(b, v)
}

// encodeResultSet is the text-protocol response to a SELECT of t's
// columns: column count, one definition per column, n rows, each appended
// by row as length-encoded values to a payload, and the OK that ends them.
func encodeResultSet(t schema.Table, n int, row func(i int, payload []byte) []byte) []byte {
	var out []byte
	seq := byte(1)
	put := func(payload []byte) {
		out = appendPacket(out, seq, payload)
		seq++ // wraps at 256, as the driver expects
	}
	put(appendLenEncInt(nil, uint64(len(t.Columns))))
	for _, c := range t.Columns {
		put(columnDefinition(t, c))
	}
	var payload []byte
	for i := range n {
		payload = row(i, payload[:0])
		put(payload)
	}
	put(endOfRowsPayload)
	return out
}

// columnDefinition is a ColumnDefinition41 for c, with what a server would
// send for it: charset, type, flags, decimals. The length is only what
// ColumnTypeLength would report, which acode never asks.
func columnDefinition(t schema.Table, c schema.Column) []byte {
	typ, ok := fakeFieldTypes[c.DataType]
	if !ok {
		panic("fake server: no column type for " + c.DataType)
	}
	charset, flags := uint16(collationUTF8MB4), uint16(0)
	if c.Charset == "" {
		charset, flags = collationBinary, fieldFlagBinary
	}
	if !c.Nullable {
		flags |= fieldFlagNotNull
	}
	if slices.Contains(t.PrimaryKey, c.Name) {
		flags |= fieldFlagPriKey
	}
	if c.Unsigned {
		flags |= fieldFlagUnsigned
	}
	b := appendLenEncString(nil, "def")
	for _, s := range []string{t.Namespace, t.Name, t.Name, c.Name, c.Name} {
		b = appendLenEncString(b, s)
	}
	b = append(b, 0x0c) // length of the fixed fields
	b = binary.LittleEndian.AppendUint16(b, charset)
	b = binary.LittleEndian.AppendUint32(b, uint32(max(4*c.MaxLength, 20)))
	b = append(b, typ)
	b = binary.LittleEndian.AppendUint16(b, flags)
	b = append(b, byte(c.Scale))
	return append(b, 0, 0)
}

// tableResult is the fake server's answer to ReadRange's read of all of t:
// n rows from row.
func tableResult(tb testing.TB, t schema.Table, n int, row func(i int, payload []byte) []byte) fakeResult {
	tb.Helper()
	q, args, err := selectRangeSQL(t, Range{}, ReadOptions{})
	if err != nil || len(args) > 0 {
		tb.Fatalf("query of %s: %q %v %v", t.Name, q, args, err)
	}
	return fakeResult{query: q, response: encodeResultSet(t, n, row)}
}
