package schedule

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The schedule index's shard codec: how the plugin encodes a shard's
// records into the storage entries it keeps them in (schedule_index.go in the
// plugin says how they are stored, and why no account goes missing).
//
// A shard entry is a format byte, the shard's scope names (a count, then
// each length-prefixed, sorted), a record count and the records, each: the
// name (length-prefixed), a flags byte (1: pending), status and login (a
// byte from shardStatuses/shardLogins, or 0xff and the string), the five
// times as zig-zag varints of Unix nanoseconds (0: zero time), the two
// owner hashes, 8 bytes each, and the scopes as a count and positions in
// the shard's names (a few bytes, where the names would take a hundred).
// checkOffset is not stored: it is the name's.

// ShardFormat is the shard entries' encoding (EncodeShard).
const ShardFormat = 1

// The codes of the statuses and logins, by position: part of the stored
// format, so only ever appended to.
var (
	shardStatuses = []string{StatusValid, StatusRefreshFailing, StatusNeedsReauth, StatusExpiring}
	shardLogins   = []string{LoginInstagram, LoginFacebook, LoginThreads}
)

const shardOtherCode = 0xff

// ShardDecodeError is a shard entry that does not decode.
type ShardDecodeError struct{ msg string }

func (e *ShardDecodeError) Error() string { return "undecodable shard: " + e.msg }

// EncodeShard encodes recs as one shard entry, sorting them by name.
func EncodeShard(recs []Record) []byte {
	slices.SortFunc(recs, func(a, b Record) int { return strings.Compare(a.Name, b.Name) })
	var names []string
	for _, r := range recs {
		names = append(names, r.Account.Scopes...)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	table := make(map[string]int, len(names))
	buf := make([]byte, 0, 8+len(recs)*96)
	buf = append(buf, ShardFormat)
	buf = binary.AppendUvarint(buf, uint64(len(names)))
	for i, n := range names {
		table[n] = i
		buf = appendString(buf, n)
	}
	buf = binary.AppendUvarint(buf, uint64(len(recs)))
	for _, r := range recs {
		buf = appendRecord(buf, r, table)
	}
	return buf
}

// RecordKey is a record's encoding on its own (scope names inline): two
// records are the same when their keys are.
func RecordKey(r Record) string { return string(appendRecord(nil, r, nil)) }

// appendRecord encodes r; its scopes as positions in table, or, with a nil
// table, as sorted names.
func appendRecord(buf []byte, r Record, table map[string]int) []byte {
	t := r.Account
	buf = appendString(buf, r.Name)
	var flags byte
	if r.Pending {
		flags |= 1
	}
	buf = append(buf, flags)
	buf = appendCode(buf, t.Status, shardStatuses)
	buf = appendCode(buf, t.Login, shardLogins)
	for _, at := range [...]time.Time{t.ExpiresAt, t.IssuedAt, t.RegisteredAt, t.RetryAt, t.CheckedAt} {
		var n int64
		if !at.IsZero() {
			n = at.UnixNano()
		}
		buf = binary.AppendVarint(buf, n)
	}
	buf = binary.LittleEndian.AppendUint64(buf, t.Owners[0])
	buf = binary.LittleEndian.AppendUint64(buf, t.Owners[1])
	buf = binary.AppendUvarint(buf, uint64(len(t.Scopes)))
	if table == nil {
		for _, sc := range slices.Sorted(slices.Values(t.Scopes)) {
			buf = appendString(buf, sc)
		}
		return buf
	}
	for _, sc := range t.Scopes {
		buf = binary.AppendUvarint(buf, uint64(table[sc]))
	}
	return buf
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func appendCode(buf []byte, s string, codes []string) []byte {
	if i := slices.Index(codes, s); i >= 0 {
		return append(buf, byte(i))
	}
	return appendString(append(buf, shardOtherCode), s)
}

// DecodeShard decodes a shard entry written by EncodeShard.
func DecodeShard(data []byte) ([]Record, error) {
	var recs []Record
	if err := DecodeShardEach(data, func(r Record) bool {
		recs = append(recs, r)
		return true
	}); err != nil {
		return nil, err
	}
	return recs, nil
}

// DecodeShardEach decodes a shard entry, calling fn with each record until
// it returns false.
func DecodeShardEach(data []byte, fn func(Record) bool) error {
	d := decoder{b: data}
	if f := d.byte(); f != ShardFormat {
		return &ShardDecodeError{fmt.Sprintf("format %d", f)}
	}
	nNames := d.uvarint()
	if d.err == nil && nNames > uint64(len(data)) {
		d.fail("scope count")
	}
	var names []string
	for i := uint64(0); i < nNames && d.err == nil; i++ {
		names = append(names, d.string())
	}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(data)) {
		d.fail("record count")
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		// The fields in the order appendRecord writes them.
		r := Record{Name: d.string(), Pending: d.byte()&1 != 0}
		r.Account = Account{Status: d.code(shardStatuses), Login: d.code(shardLogins)}
		for _, at := range [...]*time.Time{&r.Account.ExpiresAt, &r.Account.IssuedAt, &r.Account.RegisteredAt, &r.Account.RetryAt, &r.Account.CheckedAt} {
			if v := d.varint(); v != 0 {
				*at = time.Unix(0, v).UTC()
			}
		}
		r.Account.Owners[0] = d.uint64()
		r.Account.Owners[1] = d.uint64()
		if k := d.uvarint(); k > 0 && d.err == nil {
			if k > uint64(len(names)) {
				d.fail("scope count")
				break
			}
			r.Account.Scopes = make([]string, k)
			for j := range r.Account.Scopes {
				if at := d.uvarint(); at < uint64(len(names)) {
					r.Account.Scopes[j] = names[at]
				} else {
					d.fail("scope position")
				}
			}
		}
		r.Account.CheckOffset = CheckOffset(r.Name)
		if d.err == nil && !fn(r) {
			return nil
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}

// decoder reads a shard entry; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = &ShardDecodeError{what}
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("short entry")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 { return decodeVarint(d, binary.Uvarint) }
func (d *decoder) varint() int64   { return decodeVarint(d, binary.Varint) }

// decodeVarint reads one varint with read (binary.Uvarint or
// binary.Varint).
func decodeVarint[T int64 | uint64](d *decoder, read func([]byte) (T, int)) T {
	v, n := read(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.fail("short entry")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("short string")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) code(codes []string) string {
	c := d.byte()
	switch {
	case c == shardOtherCode:
		return d.string()
	case int(c) < len(codes):
		return codes[c]
	}
	d.fail("unknown code")
	return ""
}

// SpillShard encodes recs as one entry if it fits in bound, else as the
// fewest runs of records (in name order) whose entries each fit.
func SpillShard(recs []Record, bound int) [][]byte {
	whole := EncodeShard(recs) // sorts recs by name
	if len(whole) <= bound {
		return [][]byte{whole}
	}
	for n := len(whole)/bound + 1; ; n++ {
		parts := make([][]byte, 0, n)
		fits := true
		for i := range n {
			part := EncodeShard(slices.Clone(recs[i*len(recs)/n : (i+1)*len(recs)/n]))
			if len(part) > bound {
				fits = false
				break
			}
			parts = append(parts, part)
		}
		if fits {
			return parts
		}
	}
}

// MergeRecords joins the records of one shard's entries. A name in two
// (a write interrupted between storing new entries and deleting old ones)
// is kept once, pending when its copies differ: the periodic work then
// reads the account.
func MergeRecords(lists [][]Record) []Record {
	if len(lists) == 1 {
		return lists[0]
	}
	var out []Record
	at := map[string]int{}
	for _, recs := range lists {
		for _, r := range recs {
			i, seen := at[r.Name]
			switch {
			case !seen:
				at[r.Name] = len(out)
				out = append(out, r)
			case RecordKey(out[i]) != RecordKey(r):
				out[i].Pending = true
			}
		}
	}
	return out
}
