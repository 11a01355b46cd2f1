//! HTML handlers: the saturation page with its server-drawn chart, the tables
//! page with its heat map, and the tables' downloads.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use super::export;
use super::service::{self, Saturation, SaturationParams, Tables, TablesParams};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::themes::service::{NodeView, Reader};
use crate::web::Layout;
use crate::web::extract::Query;

/// Why the figures are closed to this member (still coding), if they are.
async fn reader_or_notice(
    conn: &mut sqlx::PgConnection,
    member: &Member,
) -> Result<Result<Reader, String>, AppError> {
    match Reader::of(conn, &member.actor()).await {
        Ok(reader) => Ok(Ok(reader)),
        Err(AppError::State(why)) => Ok(Err(why)),
        Err(e) => Err(e),
    }
}

/// A theme to choose, indented by its depth.
pub struct NodeChoice {
    pub id: String,
    pub label: String,
}

fn node_choices(nodes: &[NodeView]) -> Vec<NodeChoice> {
    nodes
        .iter()
        .map(|n| NodeChoice {
            id: n.node.id.to_string(),
            label: format!("{}{}", "\u{2003}".repeat(n.depth), n.node.name),
        })
        .collect()
}

// ---------------------------------------------------------------- saturation

pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    pub title: String,
}

pub struct Point {
    pub x: String,
    pub y: String,
    pub title: String,
}

pub struct Tick {
    pub at: String,
    pub label: String,
}

/// The chart, laid out here so the template only places it.
pub struct Chart {
    pub width: usize,
    pub height: usize,
    pub left: usize,
    pub plot_right: String,
    pub baseline: String,
    pub bars: Vec<Bar>,
    pub points: Vec<Point>,
    pub curve: String,
    pub band: String,
    pub median: String,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    /// Where saturation is reached in this order.
    pub marker: Option<Tick>,
}

fn f(v: f64) -> String {
    format!("{v:.1}")
}

fn chart(s: &Saturation) -> Chart {
    let (width, height, left, right, top, bottom) = (760usize, 320usize, 48usize, 16, 16, 40);
    let n = s.transcripts.len().max(1);
    let plot_w = (width - left - right) as f64;
    let plot_h = (height - top - bottom) as f64;
    let high = s.order_free.bands.iter().map(|b| b.high).max().unwrap_or(0);
    let y_max = s.total_codes.max(high).max(1);
    let step = y_max.div_ceil(5).max(1);
    let y_top = step * y_max.div_ceil(step);
    let slot = plot_w / n as f64;
    let x = |i: usize| left as f64 + slot * (i as f64 + 0.5);
    let y = |v: f64| top as f64 + plot_h - v / y_top as f64 * plot_h;
    let bars = s
        .transcripts
        .iter()
        .enumerate()
        .map(|(i, t)| Bar {
            x: f(x(i) - slot * 0.3),
            y: f(y(t.new as f64)),
            width: f(slot * 0.6),
            height: f(y(0.0) - y(t.new as f64)),
            title: format!("{}: {} new", t.title, t.new),
        })
        .collect();
    let points: Vec<Point> = s
        .transcripts
        .iter()
        .enumerate()
        .map(|(i, t)| Point {
            x: f(x(i)),
            y: f(y(t.cumulative as f64)),
            title: format!("{}: {} in all", t.title, t.cumulative),
        })
        .collect();
    let line = |values: Vec<f64>| -> String {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{},{}", f(x(i)), f(y(*v))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let bands = &s.order_free.bands;
    let mut band: Vec<f64> = bands.iter().map(|b| b.high as f64).collect();
    let upper = line(band.clone());
    band = bands.iter().map(|b| b.low as f64).collect();
    let lower: Vec<String> = band
        .iter()
        .enumerate()
        .rev()
        .map(|(i, v)| format!("{},{}", f(x(i)), f(y(*v))))
        .collect();
    Chart {
        width,
        height,
        left,
        plot_right: f((width - right) as f64),
        baseline: f(y(0.0)),
        bars,
        curve: points
            .iter()
            .map(|p| format!("{},{}", p.x, p.y))
            .collect::<Vec<_>>()
            .join(" "),
        points,
        band: if bands.is_empty() {
            String::new()
        } else {
            format!("{upper} {}", lower.join(" "))
        },
        median: line(bands.iter().map(|b| b.median).collect()),
        y_ticks: (0..=y_top)
            .step_by(step)
            .map(|v| Tick {
                at: f(y(v as f64)),
                label: v.to_string(),
            })
            .collect(),
        x_ticks: (0..s.transcripts.len())
            .map(|i| Tick {
                at: f(x(i)),
                label: (i + 1).to_string(),
            })
            .collect(),
        marker: s.guest.reached_at().map(|at| Tick {
            at: f(x(at - 1)),
            label: format!("saturation at {at}"),
        }),
    }
}

/// A row of the figures table: one transcript count.
pub struct CountRow {
    pub position: usize,
    pub title: String,
    pub participant: String,
    pub order_value: String,
    pub new: usize,
    pub cumulative: usize,
    pub new_codes: String,
    pub median: String,
    pub band: String,
    pub share: String,
}

#[derive(Template)]
#[template(path = "saturation/page.html")]
pub struct SaturationPage {
    layout: Layout,
    member: Member,
    closed: Option<String>,
    view: Option<Saturation>,
    chart: Option<Chart>,
    rows: Vec<CountRow>,
    nodes: Vec<NodeChoice>,
    params: SaturationParams,
    json: String,
}

impl SaturationPage {
    fn param(&self, name: &str) -> String {
        let p = &self.params;
        match name {
            "base" => p.base.clone(),
            "run" => p.run.clone(),
            "threshold" => p.threshold.clone(),
            "permutations" => p.permutations.clone(),
            "seed" => p.seed.clone(),
            "node" => p.node.clone(),
            "order" => p.order.clone(),
            _ => None,
        }
        .unwrap_or_default()
    }
}

pub async fn saturation(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    uri: axum::http::Uri,
    Query(params): Query<SaturationParams>,
) -> Result<Html<String>, AppError> {
    let query = params.check()?;
    let mut conn = state.db.acquire().await?;
    let json = format!(
        "/api/v1/projects/{}/saturation{}",
        member.project_id,
        uri.query().map(|q| format!("?{q}")).unwrap_or_default()
    );
    let mut page = SaturationPage {
        layout,
        closed: None,
        view: None,
        chart: None,
        rows: Vec::new(),
        nodes: Vec::new(),
        params,
        json,
        member,
    };
    let reader = match reader_or_notice(&mut conn, &page.member).await? {
        Ok(reader) => reader,
        Err(why) => {
            page.closed = Some(why);
            return Ok(Html(page.render()?));
        }
    };
    let data = service::load(&mut conn, reader).await?;
    let view = service::saturation(&data, &query)?;
    let hierarchy = crate::themes::service::hierarchy(&mut conn, reader).await?;
    page.nodes = node_choices(&hierarchy.nodes);
    page.rows = view
        .transcripts
        .iter()
        .zip(&view.order_free.bands)
        .map(|(t, b)| CountRow {
            position: t.position,
            title: t.title.clone(),
            participant: t.participant.clone().unwrap_or_default(),
            order_value: t.order_value.clone().unwrap_or_default(),
            new: t.new,
            cumulative: t.cumulative,
            new_codes: t.new_codes.join(", "),
            median: crate::participants::model::format_number(b.median),
            band: format!("{}–{}", b.low, b.high),
            share: format!("{:.1}%", b.share_saturated * 100.0),
        })
        .collect();
    page.chart = Some(chart(&view));
    page.view = Some(view);
    Ok(Html(page.render()?))
}

// ---------------------------------------------------------------- tables

pub struct HeatCell {
    pub text: String,
    pub class: String,
    pub title: String,
}

#[derive(Template)]
#[template(path = "tables/page.html")]
pub struct TablesPage {
    layout: Layout,
    member: Member,
    closed: Option<String>,
    tables: Option<Tables>,
    /// The co-occurrence matrix as heat-map cells.
    heat: Vec<Vec<HeatCell>>,
    by: String,
    min: String,
    query: String,
}

impl TablesPage {
    fn indent(&self, depth: &usize) -> String {
        "\u{2003}".repeat(*depth)
    }
}

pub async fn tables(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Query(params): Query<TablesParams>,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let by = params.by().unwrap_or_default().to_owned();
    let min = params.min()?.to_string();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("by", &by)
        .append_pair("min", &min)
        .finish();
    let mut page = TablesPage {
        layout,
        closed: None,
        tables: None,
        heat: Vec::new(),
        by,
        min,
        query,
        member,
    };
    let reader = match reader_or_notice(&mut conn, &page.member).await? {
        Ok(reader) => reader,
        Err(why) => {
            page.closed = Some(why);
            return Ok(Html(page.render()?));
        }
    };
    let tables = service::tables(&mut conn, reader, &params).await?;
    let co = &tables.cooccurrence;
    page.heat = co
        .cells
        .iter()
        .enumerate()
        .map(|(i, row)| {
            row.iter()
                .enumerate()
                .map(|(j, cell)| match cell {
                    Some(n) => HeatCell {
                        text: n.to_string(),
                        // Five steps from the filter up to the largest cell.
                        class: format!("heat heat-{}", (n * 5).div_ceil(co.max.max(1)).clamp(1, 5)),
                        title: format!("{} × {}: {n}", co.codes[i].name, co.codes[j].name),
                    },
                    None => HeatCell {
                        text: if i == j { "—".into() } else { String::new() },
                        class: "heat".into(),
                        title: String::new(),
                    },
                })
                .collect()
        })
        .collect();
    page.tables = Some(tables);
    Ok(Html(page.render()?))
}

/// `?table=participants|cooccurrence|transcripts&format=csv|xlsx`, with the
/// page's `by` and `min`.
pub async fn download_table(
    State(state): State<AppState>,
    member: Member,
    Query(params): Query<TablesParams>,
) -> Result<Response, AppError> {
    let table = service::Table::parse(params.table.as_deref().unwrap_or("participants"))?;
    let format = params.format.as_deref().unwrap_or("csv").trim();
    if !["csv", "xlsx"].contains(&format) {
        return Err(AppError::field("format", "Choose csv or xlsx."));
    }
    let mut conn = state.db.acquire().await?;
    let reader = Reader::of(&mut conn, &member.actor()).await?;
    let sheet = service::sheet(&mut conn, reader, &params, table).await?;
    let (bytes, content_type) = if format == "csv" {
        (export::to_csv(&sheet)?, "text/csv; charset=utf-8")
    } else {
        (
            export::to_xlsx(&sheet)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.{format}\"", table.name()),
            ),
        ],
        bytes,
    )
        .into_response())
}
