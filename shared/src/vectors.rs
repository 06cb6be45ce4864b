//! Embedding vectors as stored in D1 (the local vector index and the account-data cache):
//! unit vectors quantised to one signed byte per dimension, scaled by the vector's largest
//! component, as base64 text (`q8:` then the scale as 4 bytes and the dimensions). A
//! 384-dimension vector is 521 characters instead of about 2,700 of JSON, and reading 10,000
//! of them for an exact scan is a decode and a sum, not a JSON parse.

use base64::Engine;

const PREFIX: &str = "q8:";

/// A vector as stored text.
pub fn encode(v: &[f32]) -> String {
    let scale = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let mut bytes = Vec::with_capacity(4 + v.len());
    bytes.extend_from_slice(&scale.to_le_bytes());
    for x in v {
        let q = if scale > 0.0 {
            (x / scale * 127.0).round()
        } else {
            0.0
        };
        bytes.push(q.clamp(-127.0, 127.0) as i8 as u8);
    }
    format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
    )
}

/// A stored vector back (also the older JSON arrays); `None` when the text is neither.
pub fn decode(text: &str) -> Option<Vec<f32>> {
    let Some(b64) = text.strip_prefix(PREFIX) else {
        return serde_json::from_str(text).ok();
    };
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(b64)
        .ok()?;
    let (scale, dims) = bytes.split_at_checked(4)?;
    let scale = f32::from_le_bytes(scale.try_into().ok()?) / 127.0;
    Some(dims.iter().map(|b| f32::from(*b as i8) * scale).collect())
}

/// The dot product of a stored vector with `query`; for unit vectors, their cosine
/// similarity.
pub fn dot(text: &str, query: &[f32]) -> Option<f32> {
    decode(text).map(|v| v.iter().zip(query).map(|(a, b)| a * b).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u32, n: usize) -> Vec<f32> {
        let v: Vec<f32> = (0..n)
            .map(|i| (((i as u32 + 1) * seed) % 97) as f32 - 48.0)
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / norm).collect()
    }

    #[test]
    fn a_stored_vector_keeps_its_cosines_to_a_few_thousandths() {
        let (a, b) = (unit(7, 384), unit(13, 384));
        let exact: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let stored = encode(&a);
        assert_eq!(
            stored.len(),
            3 + (388 * 8usize).div_ceil(6),
            "q8: and 388 bytes of base64"
        );
        assert!((dot(&stored, &b).unwrap() - exact).abs() < 0.005);
        assert!((dot(&stored, &a).unwrap() - 1.0).abs() < 0.005);
    }

    #[test]
    fn older_json_vectors_still_read() {
        assert_eq!(decode("[0.5,-0.25]"), Some(vec![0.5, -0.25]));
        assert_eq!(decode("q8:%%"), None);
        assert_eq!(decode(&encode(&[0.0, 0.0])), Some(vec![0.0, 0.0]));
    }
}
