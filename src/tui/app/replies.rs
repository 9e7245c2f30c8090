/*!
Answers to live queries (stale ones dropped) and the Retrieval tab's opened item.
*/
use image::DynamicImage;
use ratatui_image::Resize;

use super::App;
use crate::tui::event::{QueryAnswer, QueryReply};
use crate::tui::state::{ItemView, OpenedImage, RetrievalMode, RetrievedReport, SaliencyPane};
use crate::tui::view;

impl App {
    pub(super) fn on_reply(&mut self, reply: QueryReply) {
        let s = &mut self.state;
        let zs = s.zeroshot.pending == Some(reply.id);
        let rt = s.retrieval.pending == Some(reply.id);
        if !zs && !rt {
            return; // replaced by a newer query
        }
        if zs {
            s.zeroshot.pending = None;
        } else {
            s.retrieval.pending = None;
        }
        match reply.result {
            Err(e) => s.say(e),
            Ok(QueryAnswer::Hits(h)) if zs => {
                s.zeroshot.results = h;
                s.zeroshot.rank = 0;
            }
            Ok(QueryAnswer::Hits(h)) => {
                s.retrieval.results = h;
                s.retrieval.rank = 0;
            }
            Ok(QueryAnswer::Opened {
                item,
                probs,
                image,
                overlay,
            }) => {
                s.zeroshot.opened = Some(OpenedImage {
                    item,
                    probs,
                    source: image,
                    overlay_source: overlay,
                    image: None,
                    overlay: None,
                    show_heatmap: false,
                    show_saliency: false,
                    saliency: SaliencyPane::NotAsked,
                });
                self.rebuild_opened();
            }
        }
    }

    /// (Re)builds the opened image's pixels for the area the view will give it.
    pub(super) fn rebuild_opened(&mut self) {
        let s = &mut self.state;
        let area = view::zeroshot::opened_image_area(view::body_area(s.size));
        let picker = s.picker.clone();
        if let Some(o) = s.zeroshot.opened.as_mut() {
            let build = |img: &Option<DynamicImage>| {
                img.as_ref().and_then(|i| {
                    picker
                        .new_protocol(i.clone(), area, Resize::Scale(None))
                        .ok()
                })
            };
            o.image = build(&o.source);
            o.overlay = build(&o.overlay_source);
        }
    }

    /// Opens the Retrieval tab's item: the query image (image → report) or the selected hit
    /// (query → image), with its rank in every model's top-k.
    pub(super) fn open_item(&mut self) {
        let s = &mut self.state;
        if s.gallery.is_none() {
            return;
        }
        let rt = &s.retrieval;
        let (item, query) = match rt.mode {
            RetrievalMode::ImageToText => {
                if rt.results.is_empty() {
                    s.say("pick an image first (↑↓)");
                    return;
                }
                (
                    rt.item,
                    "its own report's rank, the reports retrieved".to_string(),
                )
            }
            RetrievalMode::TextToImage => {
                let Some(hit) = rt.results.get(rt.column).and_then(|m| m.hits.get(rt.rank)) else {
                    s.say("type a query first (/)");
                    return;
                };
                (hit.item, format!("query: {}", rt.query))
            }
        };
        let ranks = rt
            .results
            .iter()
            .map(|m| {
                let rank = m.hits.iter().position(|h| h.item == item).map(|r| r + 1);
                (m.model.clone(), rank)
            })
            .collect();
        let retrieved = match rt.mode {
            RetrievalMode::ImageToText => rt
                .results
                .iter()
                .map(|m| {
                    let hits = m
                        .hits
                        .iter()
                        .enumerate()
                        .map(|(r, h)| RetrievedReport {
                            rank: r + 1,
                            score: h.score,
                            item: h.item,
                            own: rt.truth == Some(h.item),
                        })
                        .collect();
                    (m.model.clone(), hits)
                })
                .collect(),
            RetrievalMode::TextToImage => Vec::new(),
        };
        s.retrieval.opened = Some(ItemView {
            item,
            query,
            ranks,
            retrieved,
            scroll: 0,
        });
    }
}
