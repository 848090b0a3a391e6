package schedule

import "math/bits"

// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed hash made for hash
// tables whose keys an adversary chooses. Without the key, which names
// land in one shard cannot be computed, nor found faster than by trying
// names against the engine itself. The standard library has it only
// inside the runtime; this is the reference algorithm, checked against
// the reference test vectors (siphash_test.go).

// sipState is SipHash's four words.
type sipState struct{ v0, v1, v2, v3 uint64 }

func newSipState(k0, k1 uint64) sipState {
	return sipState{
		v0: k0 ^ 0x736f6d6570736575,
		v1: k1 ^ 0x646f72616e646f6d,
		v2: k0 ^ 0x6c7967656e657261,
		v3: k1 ^ 0x7465646279746573,
	}
}

func (s *sipState) round() {
	s.v0 += s.v1
	s.v1 = bits.RotateLeft64(s.v1, 13)
	s.v1 ^= s.v0
	s.v0 = bits.RotateLeft64(s.v0, 32)
	s.v2 += s.v3
	s.v3 = bits.RotateLeft64(s.v3, 16)
	s.v3 ^= s.v2
	s.v0 += s.v3
	s.v3 = bits.RotateLeft64(s.v3, 21)
	s.v3 ^= s.v0
	s.v2 += s.v1
	s.v1 = bits.RotateLeft64(s.v1, 17)
	s.v1 ^= s.v2
	s.v2 = bits.RotateLeft64(s.v2, 32)
}

// compress absorbs one 8-byte word (two rounds: the "2" of 2-4).
func (s *sipState) compress(m uint64) {
	s.v3 ^= m
	s.round()
	s.round()
	s.v0 ^= m
}

// words absorbs the whole 8-byte words of msg and returns what is left.
func (s *sipState) words(msg string) string {
	for len(msg) >= 8 {
		s.compress(le64(msg))
		msg = msg[8:]
	}
	return msg
}

// finish absorbs the last bytes (fewer than 8) and the total length, and
// returns the hash (four finalization rounds: the "4").
func (s sipState) finish(tail string, total int) uint64 {
	b := uint64(total) << 56
	for i := 0; i < len(tail); i++ {
		b |= uint64(tail[i]) << (8 * i)
	}
	s.compress(b)
	s.v2 ^= 0xff
	s.round()
	s.round()
	s.round()
	s.round()
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3
}

// sipHash24 is SipHash-2-4 of msg under the key (k0, k1).
func sipHash24(k0, k1 uint64, msg string) uint64 {
	s := newSipState(k0, k1)
	tail := s.words(msg)
	return s.finish(tail, len(msg))
}

// le64 is the first 8 bytes of s as a little-endian word.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
