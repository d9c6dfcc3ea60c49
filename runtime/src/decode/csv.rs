//! The CSV decoder: records of a file with a header row, cells typed by the schema.
//!
//! LANGUAGE.md §11: the header names the columns (the type column, the time column and
//! field columns, matched exactly; a UTF-8 BOM is dropped; other columns are ignored). A
//! cell is typed by the record's event schema: `int` accepts `3` and `3.0`, `float` any
//! finite number, `bool` `true` or `false`, `list` a JSON array, `string` any text; an
//! empty cell (or a cell the record lacks) is `null`; anything else is `wrong_type`. A
//! time cell of digits (a `-` and a fraction allowed) is epoch ms, or epoch s with
//! `seconds`; otherwise it must be a string form of §2.
//!
//! Quoted cells may hold commas, doubled quotes and line ends, so a record can span
//! several physical lines: feed lines to [`CsvDecoder::decode_csv_line`], which answers
//! once the record is complete, and call [`CsvDecoder::finish`] at the end of the input.
//! A record's `offset` is the physical line it starts on (the header is line 0).

use super::intern::Interner;
use super::scan::parse_list;
use super::schema::{integral, Kind, Schema};
use super::{is_blank, trim_line_end, DeadLetter, DeadReason, Decoded};
use crate::event::Event;
use crate::time::parse_time_cell;
use crate::value::Value;
use csv_core::{ReadRecordResult, Reader};
use nudge_compiler::plan::Plan;
use std::sync::Arc;

/// Decodes the records of one CSV input. Create it with the header line; keep one per
/// input (it holds the record being read and the scratch buffers).
pub struct CsvDecoder {
    plan: Arc<Plan>,
    schema: Schema,
    columns: Vec<String>,
    type_col: Option<usize>,
    time_col: Option<usize>,
    /// Per type, per slot: the column of the field (`None`: the header lacks it).
    field_cols: Vec<Vec<Option<usize>>>,
    cells: Cells,
    /// The record as read (its lines joined by `\n`), for dead letters.
    raw: Vec<u8>,
    /// The first line of a record still open (a quoted cell goes on).
    open: Option<u64>,
    interner: Interner,
}

/// The cells of the record being read: their text back to back and where each ends.
struct Cells {
    reader: Reader,
    text: Vec<u8>,
    len: usize,
    ends: Vec<usize>,
    count: usize,
}

impl CsvDecoder {
    /// A decoder for the columns of `header` (the first line of the file).
    pub fn new(plan: Arc<Plan>, header: &[u8]) -> CsvDecoder {
        let header = header.strip_prefix(b"\xef\xbb\xbf").unwrap_or(header);
        let mut cells = Cells::new();
        cells.start();
        cells.feed(trim_line_end(header));
        cells.feed(&[]);
        let columns: Vec<String> = (0..cells.count)
            .map(|i| String::from_utf8_lossy(cells.cell(i)).into_owned())
            .collect();
        let col = |name: &str| columns.iter().position(|c| c == name);
        let field_cols = plan
            .events
            .iter()
            .map(|e| e.fields.iter().map(|f| col(&f.name)).collect())
            .collect();
        CsvDecoder {
            schema: Schema::new(&plan),
            type_col: col(&plan.input.type_field),
            time_col: col(&plan.input.time_field),
            field_cols,
            columns,
            cells,
            raw: Vec::new(),
            open: None,
            interner: Interner::new(plan.fields.len()),
            plan,
        }
    }

    /// The plan this decoder was made for.
    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    /// The header's column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Feeds one physical line (`line_no`: its 0-based line in the file). Returns `None`
    /// while the record goes on (the line ends inside a quoted cell), else what the
    /// record decodes to.
    pub fn decode_csv_line(
        &mut self,
        line: &[u8],
        source: &Arc<str>,
        input: u32,
        line_no: u64,
    ) -> Option<Decoded> {
        let line = trim_line_end(line);
        let first = match self.open {
            Some(first) => {
                self.raw.push(b'\n');
                first
            }
            None if is_blank(line) => return Some(Decoded::Blank),
            None => {
                self.cells.start();
                self.raw.clear();
                line_no
            }
        };
        self.raw.extend_from_slice(line);
        if !self.cells.feed(line) && !self.cells.feed(b"\n") {
            self.open = Some(first);
            return None;
        }
        self.open = None;
        Some(self.decode_cells(source, input, first))
    }

    /// Ends the input: a record left open by an unclosed quote is decoded as it stands.
    pub fn finish(&mut self, source: &Arc<str>, input: u32) -> Option<Decoded> {
        let first = self.open.take()?;
        self.cells.feed(&[]);
        Some(self.decode_cells(source, input, first))
    }

    /// Decodes one whole record (which may hold line ends inside quoted cells).
    pub fn decode_csv_record(
        &mut self,
        record: &[u8],
        source: &Arc<str>,
        input: u32,
        offset: u64,
    ) -> Decoded {
        let record = trim_line_end(record);
        if is_blank(record) {
            return Decoded::Blank;
        }
        self.open = None;
        self.cells.start();
        self.raw.clear();
        self.raw.extend_from_slice(record);
        if !self.cells.feed(record) {
            self.cells.feed(&[]);
        }
        self.decode_cells(source, input, offset)
    }

    fn decode_cells(&mut self, source: &Arc<str>, input: u32, offset: u64) -> Decoded {
        let dead = |reason| Decoded::Dead(DeadLetter::new(reason, source, offset, &self.raw));
        let Ok(text) = std::str::from_utf8(&self.cells.text[..self.cells.len]) else {
            return dead(DeadReason::InvalidJson);
        };
        let cell = |col: Option<usize>| match col {
            Some(i) if i < self.cells.count => {
                let (a, b) = self.cells.span(i);
                text.get(a..b).unwrap_or("")
            }
            _ => "",
        };
        let ty = match cell(self.type_col) {
            "" => return dead(DeadReason::MissingType),
            name => match self.schema.types.get(name.as_bytes()) {
                Some(ty) => ty,
                None => return Decoded::Ignored,
            },
        };
        let ts = match cell(self.time_col) {
            "" => return dead(DeadReason::MissingTime),
            t => match parse_time_cell(t, self.schema.seconds) {
                Some(ts) => ts,
                None => return dead(DeadReason::InvalidTime),
            },
        };
        let kinds = &self.schema.fields[ty.index()];
        let cols = &self.field_cols[ty.index()];
        let mut slots = Vec::with_capacity(kinds.len());
        for (&(id, kind), &col) in kinds.iter().zip(cols) {
            let value = match (kind, cell(col)) {
                (Kind::Str, s) if !s.is_empty() => {
                    Some(Value::Str(self.interner.get(id.index(), s)))
                }
                (_, s) => convert_cell(s, kind),
            };
            match value {
                Some(v) => slots.push(v),
                None => return dead(DeadReason::WrongType),
            }
        }
        Decoded::Event(Event {
            ty,
            ts,
            source: source.clone(),
            offset,
            input,
            values: slots.into_boxed_slice(),
        })
    }
}

/// A CSV cell typed as a field of the type named `ty` (`string`, `int`, ...), by the
/// rules of event cells (LANGUAGE.md §11); `None` when it does not read as one. Tables
/// use it too, so a catalog cell reads exactly like an event cell.
pub fn typed_cell(cell: &str, ty: &str) -> Option<Value> {
    convert_cell(cell, Kind::of(ty))
}

/// A cell as a field of `kind`: `None` when it does not read as one.
fn convert_cell(cell: &str, kind: Kind) -> Option<Value> {
    if cell.is_empty() {
        return Some(Value::Null);
    }
    let finite = |s: &str| s.parse::<f64>().ok().filter(|f| f.is_finite());
    Some(match kind {
        Kind::Str => Value::str(cell),
        Kind::Int => match cell.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Int(integral(finite(cell)?)?),
        },
        Kind::Float => Value::Float(finite(cell)?),
        Kind::Bool => match cell {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return None,
        },
        Kind::List => parse_list(cell)?,
    })
}

impl Cells {
    fn new() -> Cells {
        Cells {
            reader: Reader::new(),
            text: vec![0; 1024],
            len: 0,
            ends: vec![0; 32],
            count: 0,
        }
    }

    /// Starts a new record.
    fn start(&mut self) {
        self.reader.reset();
        self.len = 0;
        self.count = 0;
    }

    /// Reads `input` into the record (an empty `input` ends it); true once it is complete.
    fn feed(&mut self, mut input: &[u8]) -> bool {
        loop {
            let (res, nin, nout, nend) = self.reader.read_record(
                input,
                &mut self.text[self.len..],
                &mut self.ends[self.count..],
            );
            input = &input[nin..];
            self.len += nout;
            self.count += nend;
            match res {
                ReadRecordResult::InputEmpty => return false,
                ReadRecordResult::OutputFull => self.text.resize(self.text.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record | ReadRecordResult::End => return true,
            }
        }
    }

    /// The byte range of cell `i` in `text`.
    fn span(&self, i: usize) -> (usize, usize) {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        (start, self.ends[i])
    }

    fn cell(&self, i: usize) -> &[u8] {
        let (a, b) = self.span(i);
        &self.text[a..b]
    }
}
