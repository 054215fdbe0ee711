package stats

import "encoding/binary"

// dayKey is a YYYY-MM-DD day packed into two integers, so finding a day's
// sum compares two words instead of hashing text.
type dayKey struct {
	head uint64 // "YYYY-MM-"
	tail uint16 // "DD"
}

func dayKeyOf(day []byte) dayKey {
	return dayKey{head: binary.LittleEndian.Uint64(day[:8]), tail: binary.LittleEndian.Uint16(day[8:10])}
}

func (k dayKey) String() string {
	var b [10]byte
	binary.LittleEndian.PutUint64(b[:8], k.head)
	binary.LittleEndian.PutUint16(b[8:], k.tail)
	return string(b[:])
}

type dayEntry struct {
	key dayKey
	sum exactSum
}

// dailyRecentDays is how many days are kept in the scanned list: a sync
// partition holds one day or a few, a full refresh a handful per batch.
const dailyRecentDays = 16

// dailySums is the exact sum of one column per day. The first days seen
// are kept in a short list, found through a direct-mapped index (the rows
// of a partition come in no day order, so a scan would mispredict its exit
// on most rows); further days go to a map.
type dailySums struct {
	recent []dayEntry
	index  [dailyIndexSlots]uint8 // by slot: 1 + the index in recent of the first day given it, 0 for none
	more   map[dayKey]*exactSum
}

// dailyIndexSlots is the size of the index: a power of two, well over
// dailyRecentDays so that days seldom share a slot (those that do are
// found by a scan).
const (
	dailyIndexBits  = 6
	dailyIndexSlots = 1 << dailyIndexBits
)

// slot is k's place in the index: the top bits of a multiplicative hash,
// which depend on every bit of the day.
func (k dayKey) slot() int {
	return int(((k.head ^ uint64(k.tail)<<48) * 0x9e3779b97f4a7c15) >> (64 - dailyIndexBits))
}

// add adds n to the sum of day, the first 10 bytes of a date.
func (d *dailySums) add(day []byte, n num) {
	d.sum(dayKeyOf(day)).add(n)
}

// addSmall is add for an int64.
func (d *dailySums) addSmall(day []byte, x int64) {
	d.sum(dayKeyOf(day)).addSmall(x)
}

func (d *dailySums) sum(k dayKey) *exactSum {
	at := k.slot()
	if i := int(d.index[at]) - 1; i >= 0 && d.recent[i].key == k {
		return &d.recent[i].sum
	}
	return d.sumOther(k, at)
}

// sumOther is sum for a day not in the index: new, past the list, or
// sharing its slot with another.
func (d *dailySums) sumOther(k dayKey, at int) *exactSum {
	for i := range d.recent { // a day whose slot another day took
		if d.recent[i].key == k {
			return &d.recent[i].sum
		}
	}
	if len(d.recent) < dailyRecentDays {
		if d.recent == nil {
			d.recent = make([]dayEntry, 0, dailyRecentDays) // never reallocated: sum returns pointers into it
		}
		d.recent = append(d.recent, dayEntry{key: k})
		if d.index[at] == 0 {
			d.index[at] = uint8(len(d.recent))
		}
		return &d.recent[len(d.recent)-1].sum
	}
	s := d.more[k]
	if s == nil {
		if d.more == nil {
			d.more = map[dayKey]*exactSum{}
		}
		s = &exactSum{}
		d.more[k] = s
	}
	return s
}

// each calls f with every day (YYYY-MM-DD) and its sum.
func (d *dailySums) each(f func(day dayKey, s *exactSum)) {
	for i := range d.recent {
		f(d.recent[i].key, &d.recent[i].sum)
	}
	for k, s := range d.more {
		f(k, s)
	}
}

// merge adds o's sums.
func (d *dailySums) merge(o *dailySums) {
	o.each(func(k dayKey, s *exactSum) { d.sum(k).merge(s) })
}
