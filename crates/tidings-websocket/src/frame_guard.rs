//! Checks frame headers as bytes arrive, before a frame's payload is buffered.
//!
//! actix-http's codec compares a frame's declared length with its limit only once the whole frame
//! is buffered, so a client (authenticated or not) that declares a huge frame and streams it would
//! make the server hold all of it. The guard reads each frame header as it passes and fails as soon
//! as a declared length, or the running size of a fragmented message, is over the limit. It also
//! refuses reserved bits, which the codec lets through.

use std::fmt;

/// Why the guard stopped a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameRejected {
    /// A frame or fragmented message is larger than the limit (close code 1009).
    TooLarge,
    /// A frame sets reserved bits no extension was negotiated for (close code 1002).
    ReservedBits,
}

impl fmt::Display for FrameRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrameRejected::TooLarge => "frame larger than the limit",
            FrameRejected::ReservedBits => "frame with reserved bits set",
        })
    }
}

/// The guard over one connection's incoming bytes: where the parser is in the byte stream.
#[derive(Default)]
pub(crate) struct FrameGuard {
    header: Header,
}

impl FrameGuard {
    /// Feeds the bytes just read; fails at the first frame over `max` bytes.
    pub(crate) fn check(&mut self, bytes: &[u8], max: u64) -> Result<(), FrameRejected> {
        self.header.feed(bytes, max)
    }
}

/// Where the parser is in the byte stream.
#[derive(Default)]
struct Header {
    /// Header bytes of the frame being read (at most 14).
    bytes: [u8; 14],
    /// How many of them have arrived.
    have: usize,
    /// Payload bytes of the current frame still to pass.
    skip: u64,
    /// Size so far of a fragmented data message.
    message: u64,
}

impl Header {
    /// Header length once the first two bytes are known.
    fn needed(&self) -> usize {
        if self.have < 2 {
            return 2;
        }
        let extended = match self.bytes[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if self.bytes[1] & 0x80 != 0 { 4 } else { 0 };
        2 + extended + mask
    }

    /// Feeds bytes; fails at the first frame over the limit.
    fn feed(&mut self, mut chunk: &[u8], max: u64) -> Result<(), FrameRejected> {
        while !chunk.is_empty() {
            if self.skip > 0 {
                let n = usize::try_from(self.skip).unwrap_or(usize::MAX).min(chunk.len());
                self.skip -= n as u64;
                chunk = &chunk[n..];
                continue;
            }
            self.bytes[self.have] = chunk[0];
            self.have += 1;
            chunk = &chunk[1..];
            if self.have == self.needed() {
                self.frame(max)?;
            }
        }
        Ok(())
    }

    /// A complete header: checks it and sets up skipping its payload.
    fn frame(&mut self, max: u64) -> Result<(), FrameRejected> {
        let (first, second) = (self.bytes[0], self.bytes[1]);
        if first & 0x70 != 0 {
            return Err(FrameRejected::ReservedBits);
        }
        let length = match second & 0x7f {
            126 => u64::from(u16::from_be_bytes([self.bytes[2], self.bytes[3]])),
            127 => u64::from_be_bytes(self.bytes[2..10].try_into().unwrap_or([0xff; 8])),
            n => u64::from(n),
        };
        let (fin, opcode) = (first & 0x80 != 0, first & 0x0f);
        // Control frames (8 and up) may come between fragments and do not count towards them.
        if opcode < 8 {
            self.message = if opcode == 0 { self.message.saturating_add(length) } else { length };
            if self.message > max {
                return Err(FrameRejected::TooLarge);
            }
            if fin {
                self.message = 0;
            }
        } else if length > max {
            return Err(FrameRejected::TooLarge);
        }
        self.skip = length;
        self.have = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame header declaring `len` bytes.
    fn header(fin: bool, opcode: u8, len: u64) -> Vec<u8> {
        let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
        match len {
            0..=125 => out.push(0x80 | len as u8),
            126..=65_535 => {
                out.push(0x80 | 126);
                out.extend((len as u16).to_be_bytes());
            }
            _ => {
                out.push(0x80 | 127);
                out.extend(len.to_be_bytes());
            }
        }
        out.extend([1, 2, 3, 4]);
        out
    }

    #[test]
    fn frames_within_the_limit_pass_byte_by_byte() {
        let mut h = Header::default();
        let mut stream = header(true, 1, 100);
        stream.extend([b'x'; 100]);
        stream.extend(header(true, 9, 4));
        stream.extend([0; 4]);
        for byte in stream {
            assert_eq!(h.feed(&[byte], 100), Ok(()));
        }
    }

    #[test]
    fn a_declared_length_over_the_limit_fails_at_the_header() {
        let mut h = Header::default();
        assert_eq!(h.feed(&header(true, 1, 64 * 1024 * 1024), 65_536), Err(FrameRejected::TooLarge));
        let mut h = Header::default();
        assert_eq!(h.feed(&header(true, 2, 65_537), 65_536), Err(FrameRejected::TooLarge));
    }

    #[test]
    fn fragments_count_together_but_control_frames_do_not() {
        let mut h = Header::default();
        let mut stream = header(false, 1, 60);
        stream.extend([b'x'; 60]);
        stream.extend(header(true, 9, 10));
        stream.extend([0; 10]);
        assert_eq!(h.feed(&stream, 100), Ok(()));
        assert_eq!(h.feed(&header(true, 0, 41), 100), Err(FrameRejected::TooLarge));
    }

    #[test]
    fn reserved_bits_are_refused() {
        let mut h = Header::default();
        let mut frame = header(true, 1, 1);
        frame[0] |= 0x40;
        assert_eq!(h.feed(&frame, 100), Err(FrameRejected::ReservedBits));
    }
}
