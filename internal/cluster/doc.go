// Package cluster makes several `acode serve` processes on one PostgreSQL
// state store act as one service: every replica serves the APIs and runs the
// jobs it is given, and exactly one, the leader, runs the cluster-wide loops
// (the health round and the failover decisions it feeds, alert evaluation,
// schedule ticks, the daily e-mail).
//
// Leader election is River's (github.com/riverqueue/river over
// riverdatabasesql, sharing the state's database/sql pool): each replica
// runs a River client whose elector holds a 15-second lease in the
// river_leader table, renewed every 5 seconds; a killed leader is replaced
// after its lease runs out, a stopped one resigns at once. River has no
// public "am I leader" call, so Node reads river_leader every second and
// compares the holder with its own client id. The loops run only while that
// read says so; what they decide is also guarded in the store (a schedule
// slot is claimed by compare-and-set), so a moment of overlap during a
// change of leader cannot fire anything twice.
//
// On a SQLite state store there is one serve process by design (the file is
// local to one host), so Node is simply always the leader: today's
// single-process behaviour behind the same interface. River's SQLite driver
// is not used there: it is marked early upstream, and leader election
// buys nothing when only one process may run.
package cluster
