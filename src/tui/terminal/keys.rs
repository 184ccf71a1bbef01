//! Key encoding for the shell: a crossterm key event becomes the bytes an xterm sends for it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The bytes for `key`; `app_cursor` is the shell's application cursor mode (DECCKM).
pub fn encode(key: &KeyEvent, app_cursor: bool) -> Vec<u8> {
    let m = key.modifiers;
    let ctrl = m.contains(KeyModifiers::CONTROL);
    let alt = m.contains(KeyModifiers::ALT);
    let shift = m.contains(KeyModifiers::SHIFT);
    // xterm's modifier parameter: 1 + shift + 2*alt + 4*ctrl.
    let param = 1 + u8::from(shift) + 2 * u8::from(alt) + 4 * u8::from(ctrl);
    let esc_prefix = |mut bytes: Vec<u8>| {
        if alt {
            bytes.insert(0, 0x1b);
        }
        bytes
    };
    // CSI <final> (plain), or CSI 1;<param> <final> with modifiers; SS3 <final> in application mode.
    let cursor = |fin: u8| -> Vec<u8> {
        if param > 1 {
            format!("\x1b[1;{param}{}", fin as char).into_bytes()
        } else if app_cursor {
            vec![0x1b, b'O', fin]
        } else {
            vec![0x1b, b'[', fin]
        }
    };
    let tilde = |n: u8| -> Vec<u8> {
        if param > 1 {
            format!("\x1b[{n};{param}~").into_bytes()
        } else {
            format!("\x1b[{n}~").into_bytes()
        }
    };
    match key.code {
        KeyCode::Char(c) if ctrl => esc_prefix(vec![ctrl_byte(c).unwrap_or(c as u8)]),
        KeyCode::Char(c) => {
            let mut buf = [0u8; 4];
            esc_prefix(c.encode_utf8(&mut buf).as_bytes().to_vec())
        }
        KeyCode::Enter => esc_prefix(vec![b'\r']),
        KeyCode::Tab => esc_prefix(vec![b'\t']),
        KeyCode::BackTab => b"\x1b[Z".to_vec(),
        KeyCode::Backspace if ctrl => esc_prefix(vec![0x08]),
        KeyCode::Backspace => esc_prefix(vec![0x7f]),
        KeyCode::Esc => vec![0x1b],
        KeyCode::Up => cursor(b'A'),
        KeyCode::Down => cursor(b'B'),
        KeyCode::Right => cursor(b'C'),
        KeyCode::Left => cursor(b'D'),
        KeyCode::Home => cursor(b'H'),
        KeyCode::End => cursor(b'F'),
        KeyCode::Insert => tilde(2),
        KeyCode::Delete => tilde(3),
        KeyCode::PageUp => tilde(5),
        KeyCode::PageDown => tilde(6),
        KeyCode::F(n @ 1..=4) => {
            let fin = b'P' + (n - 1);
            if param > 1 {
                format!("\x1b[1;{param}{}", fin as char).into_bytes()
            } else {
                vec![0x1b, b'O', fin]
            }
        }
        KeyCode::F(n @ 5..=12) => tilde([15, 17, 18, 19, 20, 21, 23, 24][(n - 5) as usize]),
        _ => Vec::new(),
    }
}

/// The control character of ctrl-`c`.
fn ctrl_byte(c: char) -> Option<u8> {
    match c {
        'a'..='z' => Some(c as u8 - b'a' + 1),
        'A'..='Z' => Some(c as u8 - b'A' + 1),
        '@' | ' ' | '2' => Some(0),
        '[' | '3' => Some(0x1b),
        '\\' | '4' => Some(0x1c),
        ']' | '5' => Some(0x1d),
        '^' | '6' => Some(0x1e),
        '_' | '-' | '7' => Some(0x1f),
        '?' | '8' => Some(0x7f),
        _ => None,
    }
}

/// Text pasted into the shell: wrapped in bracketed-paste markers when the shell asked for them.
pub fn paste(text: &str, bracketed: bool) -> Vec<u8> {
    // A pasted end marker must not end the paste early.
    let clean = text.replace("\x1b[201~", "");
    if bracketed {
        format!("\x1b[200~{clean}\x1b[201~").into_bytes()
    } else {
        clean.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, m: KeyModifiers) -> Vec<u8> {
        encode(&KeyEvent::new(code, m), false)
    }

    #[test]
    fn keys_encode_as_xterm_sends_them() {
        let none = KeyModifiers::NONE;
        assert_eq!(k(KeyCode::Char('c'), KeyModifiers::CONTROL), vec![3]);
        assert_eq!(k(KeyCode::Char('b'), KeyModifiers::ALT), b"\x1bb".to_vec());
        assert_eq!(k(KeyCode::Up, none), b"\x1b[A".to_vec());
        assert_eq!(
            encode(&KeyEvent::new(KeyCode::Up, none), true),
            b"\x1bOA".to_vec()
        );
        assert_eq!(
            k(KeyCode::Right, KeyModifiers::CONTROL),
            b"\x1b[1;5C".to_vec()
        );
        assert_eq!(k(KeyCode::Home, none), b"\x1b[H".to_vec());
        assert_eq!(k(KeyCode::End, none), b"\x1b[F".to_vec());
        assert_eq!(k(KeyCode::PageUp, none), b"\x1b[5~".to_vec());
        assert_eq!(
            k(KeyCode::PageDown, KeyModifiers::SHIFT),
            b"\x1b[6;2~".to_vec()
        );
        assert_eq!(k(KeyCode::F(1), none), b"\x1bOP".to_vec());
        assert_eq!(k(KeyCode::F(5), none), b"\x1b[15~".to_vec());
        assert_eq!(k(KeyCode::F(12), none), b"\x1b[24~".to_vec());
        assert_eq!(k(KeyCode::Esc, none), vec![0x1b]);
        assert_eq!(k(KeyCode::Tab, none), vec![b'\t']);
        assert_eq!(k(KeyCode::BackTab, KeyModifiers::SHIFT), b"\x1b[Z".to_vec());
        assert_eq!(k(KeyCode::Enter, none), vec![b'\r']);
        assert_eq!(k(KeyCode::Backspace, none), vec![0x7f]);
        assert_eq!(k(KeyCode::Char('é'), none), "é".as_bytes().to_vec());
    }

    #[test]
    fn paste_is_bracketed_when_the_shell_asks() {
        assert_eq!(paste("ls\n", true), b"\x1b[200~ls\n\x1b[201~".to_vec());
        assert_eq!(paste("a\x1b[201~b", true), b"\x1b[200~ab\x1b[201~".to_vec());
        assert_eq!(paste("ls", false), b"ls".to_vec());
    }
}
