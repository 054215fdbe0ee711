package mysql

import (
	"bufio"
	"context"
	"errors"
	"net"
	"syscall"
)

// readBufferSize is the socket read size of every connection. The driver
// reads its packets 4 KiB at a time; a streaming SELECT of millions of rows
// then spends a few percent of the client's CPU in read system calls. A
// 256 KiB buffer under the driver cuts them by sixty times.
const readBufferSize = 256 << 10

// dialBuffered dials TCP like the driver does (keep-alive on) and puts a
// read buffer under the driver's own.
func dialBuffered(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetKeepAlive(true)
	}
	return &bufferedConn{Conn: c, r: bufio.NewReaderSize(c, readBufferSize)}, nil
}

// bufferedConn is a net.Conn whose reads go through a buffer. Deadlines,
// writes and Close go to the connection itself.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// SyscallConn lets the driver check an idle pooled connection for a close
// by the server, as it does on a plain TCP connection.
func (c *bufferedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok && c.r.Buffered() == 0 {
		return sc.SyscallConn()
	}
	return nil, errBufferedIdle
}

// errBufferedIdle makes the driver drop a pooled connection that holds
// unread bytes: an idle connection must have none.
var errBufferedIdle = errors.New("unread bytes on an idle connection")

var _ interface {
	net.Conn
	syscall.Conn
} = (*bufferedConn)(nil)
