//! The body of a `$batch` request, read: a multipart/mixed document (RFC
//! 2046 section 5.1) whose parts are single requests (`application/http`,
//! one HTTP/1.1 request each) or change sets (a nested multipart/mixed of
//! such requests), as OData 4.0 section 11.7 "Batch Requests" and
//! Dataverse's "Execute batch operations using the Web API" describe it.
//!
//! Line breaks may be CRLF or a bare LF: Microsoft's Python SDK writes CRLF,
//! dynamics-web-api writes LF, and Dataverse takes both. The line break
//! before a delimiter belongs to the delimiter (RFC 2046), so a part's body
//! is exactly what the client put before it.

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue, Method};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// Dataverse's limit: "Batch requests can contain up to 1,000 individual
/// requests and can't contain other batch requests."
pub const MAX_REQUESTS: usize = 1000;

/// Headers read from a part or from a request inside one; more is a
/// malformed batch, not a reason to allocate.
const MAX_HEADERS: usize = 64;

/// One request of the batch, as the client wrote it.
#[derive(Debug)]
pub struct PartRequest {
    /// The part's `Content-ID` (or, as OData 4.0 lets early clients put
    /// it, the inner request's), written back on its response.
    pub content_id: Option<String>,
    pub method: Method,
    /// The request target as written: absolute, absolute-path, or relative
    /// to the service root.
    pub target: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

/// A part of the batch.
#[derive(Debug)]
pub enum Item {
    Request(PartRequest),
    ChangeSet(Vec<PartRequest>),
}

/// Why a batch cannot be read; the message names the part and the fix.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub String);

/// The boundary a `multipart/mixed` Content-Type declares.
pub fn boundary(content_type: Option<&str>) -> Result<String, Malformed> {
    let fix = "send Content-Type: multipart/mixed; boundary=batch_{id}";
    let Some(content_type) = content_type else {
        return Err(Malformed(format!(
            "The batch request has no Content-Type: {fix}."
        )));
    };
    let mime: mime::Mime = content_type.parse().map_err(|_| {
        Malformed(format!(
            "The batch request's Content-Type '{content_type}' cannot be read: {fix}."
        ))
    })?;
    if mime.type_() != mime::MULTIPART || mime.subtype() != "mixed" {
        return Err(Malformed(format!(
            "The batch request's Content-Type is '{}': {fix}.",
            mime.essence_str()
        )));
    }
    let boundary = mime
        .get_param(mime::BOUNDARY)
        .map(|b| b.as_str().to_owned())
        .filter(|b| (1..=70).contains(&b.len()))
        .ok_or_else(|| {
            Malformed(format!(
                "The batch request's Content-Type names no boundary of 1 to 70 characters: {fix}."
            ))
        })?;
    Ok(boundary)
}

/// The batch's parts, in order.
pub fn parse(body: &[u8], boundary: &str) -> Result<Vec<Item>, Malformed> {
    let mut items = Vec::new();
    let mut requests = 0;
    for (index, part) in split(body, boundary, "batch")?.into_iter().enumerate() {
        let number = index + 1;
        let (headers, content) = part_headers(part, number)?;
        let item = match nested_boundary(&headers, number)? {
            Some(inner) => {
                let mut set = Vec::new();
                for (j, part) in split(content, &inner, "change set")?
                    .into_iter()
                    .enumerate()
                {
                    let label = format!("{number}.{}", j + 1);
                    let (headers, content) = part_headers(part, &label)?;
                    if nested_boundary(&headers, &label)?.is_some() {
                        return Err(Malformed(format!(
                            "Part {label} is a change set inside a change set: a change set holds requests only."
                        )));
                    }
                    set.push(request(&headers, content, &label)?);
                }
                if set.is_empty() {
                    return Err(Malformed(format!("Change set {number} holds no request.")));
                }
                requests += set.len();
                Item::ChangeSet(set)
            }
            None => {
                requests += 1;
                Item::Request(request(&headers, content, number)?)
            }
        };
        if requests > MAX_REQUESTS {
            return Err(Malformed(format!(
                "The batch holds more than {MAX_REQUESTS} requests: split it into batches of {MAX_REQUESTS} or fewer."
            )));
        }
        items.push(item);
    }
    if items.is_empty() {
        return Err(Malformed("The batch holds no request.".into()));
    }
    Ok(items)
}

/// The parts between `--boundary` delimiter lines, up to `--boundary--`.
fn split<'a>(body: &'a [u8], boundary: &str, what: &str) -> Result<Vec<&'a [u8]>, Malformed> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    // Where the current part's content starts, once a delimiter is seen.
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in body.split_inclusive(|b| *b == b'\n') {
        let text = trim_line(line);
        let is_close = text.strip_prefix(delimiter.as_bytes()) == Some(b"--".as_slice());
        if text == delimiter.as_bytes() || is_close {
            if let Some(start) = start {
                // The line break before the delimiter is the delimiter's.
                let end = strip_line_break(&body[start..offset]);
                parts.push(&body[start..start + end]);
            }
            if is_close {
                return Ok(parts);
            }
            start = Some(offset + line.len());
        }
        offset += line.len();
    }
    Err(Malformed(format!(
        "The {what} does not end with its closing delimiter '{delimiter}--' on a line of its own."
    )))
}

/// A line without its line break and without RFC 2046's transport padding.
fn trim_line(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
        .map_or(0, |i| i + 1);
    &line[..end]
}

/// The length of `content` without one trailing CRLF or LF.
fn strip_line_break(content: &[u8]) -> usize {
    if content.ends_with(b"\r\n") {
        content.len() - 2
    } else if content.ends_with(b"\n") {
        content.len() - 1
    } else {
        content.len()
    }
}

type Headers = Vec<(String, String)>;

/// A MIME part's headers (names lower case) and its content.
fn part_headers(
    part: &[u8],
    number: impl std::fmt::Display,
) -> Result<(Headers, &[u8]), Malformed> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let status = httparse::parse_headers(part, &mut slots)
        .map_err(|e| Malformed(format!("Part {number}'s headers cannot be read: {e}.")))?;
    let httparse::Status::Complete((length, headers)) = status else {
        return Err(Malformed(format!(
            "Part {number} has no blank line after its headers: write Content-Type: application/http, a blank line, then the request."
        )));
    };
    let headers = headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).trim().to_owned(),
            )
        })
        .collect();
    Ok((headers, &part[length..]))
}

fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A change set's boundary, when the part is one.
fn nested_boundary(
    headers: &Headers,
    number: impl std::fmt::Display,
) -> Result<Option<String>, Malformed> {
    match header(headers, "content-type") {
        Some(ct) if ct.to_ascii_lowercase().starts_with("multipart/") => boundary(Some(ct))
            .map(Some)
            .map_err(|Malformed(m)| Malformed(format!("Part {number}: {m}"))),
        Some(ct) if ct.to_ascii_lowercase().starts_with("application/http") => Ok(None),
        other => Err(Malformed(format!(
            "Part {number} has Content-Type '{}': a part is a request (application/http) or a change set (multipart/mixed).",
            other.unwrap_or_default()
        ))),
    }
}

/// Bytes a request target may hold only percent-encoded. Clients write
/// query options with their spaces in the request line (Microsoft's Python
/// SDK writes `$orderby=name asc` as it is), and Dataverse takes them; the
/// platform encodes them as the client would have on its own.
const NOT_IN_A_URI: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The HTTP request a part holds: `METHOD URL HTTP/1.1`, its headers, a
/// blank line and its body. The request line is split at its first and
/// last space, since the URL may hold spaces; the headers are read by
/// httparse.
fn request(
    part_headers: &Headers,
    content: &[u8],
    number: impl std::fmt::Display,
) -> Result<PartRequest, Malformed> {
    let unreadable = |e: &str| {
        Malformed(format!(
            "Part {number}'s request cannot be read ({e}): write 'METHOD URL HTTP/1.1', its headers, a blank line and its body."
        ))
    };
    let line_end = content
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(content.len());
    let line = std::str::from_utf8(&content[..line_end])
        .map_err(|_| unreadable("the request line is not UTF-8"))?
        .trim_end_matches('\r');
    let (method, rest) = line.split_once(' ').ok_or_else(|| unreadable("no URL"))?;
    let (target, version) = rest
        .rsplit_once(' ')
        .ok_or_else(|| unreadable("no HTTP version"))?;
    if !matches!(version, "HTTP/1.1" | "HTTP/1.0") {
        return Err(unreadable("no HTTP version"));
    }
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| unreadable("no method"))?;
    let target = utf8_percent_encode(target.trim(), NOT_IN_A_URI).to_string();
    if target.is_empty() {
        return Err(unreadable("no URL"));
    }

    // The headers; a request without a body may end right after its last
    // header line, its blank line taken for the delimiter's line break.
    let after_line = content.get(line_end + 1..).unwrap_or_default();
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let completed;
    let (length, parsed) = match httparse::parse_headers(after_line, &mut slots) {
        Ok(httparse::Status::Complete((length, parsed))) => (length, parsed),
        Ok(httparse::Status::Partial) => {
            completed = [after_line, b"\r\n"].concat();
            let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
            match httparse::parse_headers(&completed, &mut slots) {
                Ok(httparse::Status::Complete((_, parsed))) => {
                    return finish(part_headers, method, target, parsed, &[], unreadable);
                }
                _ => return Err(unreadable("its headers are incomplete")),
            }
        }
        Err(e) => return Err(unreadable(&e.to_string())),
    };
    finish(
        part_headers,
        method,
        target,
        parsed,
        &after_line[length..],
        unreadable,
    )
}

fn finish(
    part_headers: &Headers,
    method: Method,
    target: String,
    parsed: &[httparse::Header<'_>],
    body: &[u8],
    unreadable: impl Fn(&str) -> Malformed,
) -> Result<PartRequest, Malformed> {
    let mut headers = Vec::with_capacity(parsed.len());
    let mut inner_content_id = None;
    for h in parsed {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| unreadable(&format!("header name '{}'", h.name)))?;
        let value = HeaderValue::from_bytes(h.value)
            .map_err(|_| unreadable(&format!("the value of header {}", h.name)))?;
        if name.as_str() == "content-id" {
            inner_content_id = value.to_str().ok().map(str::to_owned);
        }
        headers.push((name, value));
    }
    Ok(PartRequest {
        content_id: header(part_headers, "content-id")
            .map(str::to_owned)
            .or(inner_content_id),
        method,
        target,
        headers,
        body: Bytes::copy_from_slice(body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYTHON_SDK: &str = "--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET https://contoso.crm.dynamics.com/api/data/v9.2/flowmachines?$select=name HTTP/1.1\r\n\r\n--batch_1\r\nContent-Type: multipart/mixed; boundary=\"changeset_2\"\r\n\r\n--changeset_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nPOST https://contoso.crm.dynamics.com/api/data/v9.2/flowmachinegroups HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n\r\n{\"name\":\"g\"}\r\n--changeset_2--\r\n\r\n--batch_1--\r\n";

    #[test]
    fn reads_the_python_sdks_batch() {
        let items = parse(PYTHON_SDK.as_bytes(), "batch_1").unwrap();
        let [Item::Request(get), Item::ChangeSet(set)] = items.as_slice() else {
            panic!("{items:?}");
        };
        assert_eq!(get.method, Method::GET);
        assert!(get.target.ends_with("flowmachines?$select=name"));
        assert!(get.body.is_empty());
        let [post] = set.as_slice() else {
            panic!("{set:?}")
        };
        assert_eq!(post.content_id.as_deref(), Some("1"));
        assert_eq!(post.body.as_ref(), b"{\"name\":\"g\"}");
    }

    #[test]
    fn reads_bare_lf_line_breaks_and_a_request_without_its_blank_line() {
        let body =
            "--b\nContent-Type: application/http\n\nGET /api/data/v9.2/WhoAmI HTTP/1.1\n--b--\n";
        let items = parse(body.as_bytes(), "b").unwrap();
        let [Item::Request(get)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(get.target, "/api/data/v9.2/WhoAmI");
    }

    #[test]
    fn encodes_what_a_client_left_unencoded_in_its_url() {
        let body = "--b\r\nContent-Type: application/http\r\n\r\nGET flowmachines?$orderby=name asc&fetchXml=<fetch/> HTTP/1.1\r\n\r\n--b--";
        let items = parse(body.as_bytes(), "b").unwrap();
        let [Item::Request(get)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(
            get.target,
            "flowmachines?$orderby=name%20asc&fetchXml=%3Cfetch/%3E"
        );
    }

    #[test]
    fn refuses_what_cannot_be_read() {
        let cases: [(&str, &str); 6] = [
            (
                "--b\r\nContent-Type: application/http\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
                "closing delimiter",
            ),
            ("--b--\r\n", "no request"),
            (
                "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--",
                "Part 1 has Content-Type 'text/plain'",
            ),
            (
                "--b\r\nContent-Type: application/http\r\n\r\nNOT A REQUEST\r\n--b--",
                "Part 1's request cannot be read",
            ),
            (
                "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c--\r\n--b--",
                "holds no request",
            ),
            (
                "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: multipart/mixed; boundary=d\r\n\r\n--d--\r\n--c--\r\n--b--",
                "inside a change set",
            ),
        ];
        for (body, expected) in cases {
            let Malformed(message) = parse(body.as_bytes(), "b").unwrap_err();
            assert!(message.contains(expected), "{body:?}: {message}");
        }
    }

    #[test]
    fn counts_requests_inside_change_sets_toward_the_limit() {
        let request = "--c\r\nContent-Type: application/http\r\n\r\nDELETE /api/data/v9.2/x(1) HTTP/1.1\r\n\r\n";
        let body = format!(
            "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n{}--c--\r\n--b--\r\n",
            request.repeat(MAX_REQUESTS + 1)
        );
        let Malformed(message) = parse(body.as_bytes(), "b").unwrap_err();
        assert!(message.contains("more than 1000"), "{message}");
    }

    #[test]
    fn takes_the_boundary_from_the_content_type() {
        assert_eq!(
            boundary(Some("multipart/mixed; boundary=\"batch_1\"")),
            Ok("batch_1".into())
        );
        assert_eq!(
            boundary(Some("multipart/mixed;boundary=batch_2")),
            Ok("batch_2".into())
        );
        for bad in [
            None,
            Some("application/json"),
            Some("multipart/mixed"),
            Some("multipart/mixed; boundary="),
        ] {
            assert!(boundary(bad).is_err(), "{bad:?}");
        }
    }
}
