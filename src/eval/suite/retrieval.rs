/*! Cross-modal retrieval on the test split: i2t, t2i and the unique-report gallery (i2t_unique). */
use super::{Run, SplitViews};
use crate::eval::metrics::{Setting, Task};
use crate::eval::retrieval::{self, MedianRankConvention, PairedRanks};
use crate::eval::rows::Spec;

impl<'a> Run<'a, '_> {
    pub(super) fn chunk(&self, n: usize) -> usize {
        if self.cfg.retrieval_chunk > 0 {
            self.cfg.retrieval_chunk
        } else {
            retrieval::default_chunk(n)
        }
    }

    pub(super) fn retrieval_data(&mut self, test: &SplitViews<'a>) -> RetrievalData {
        let key = self.protocol.gallery;
        let reports: Vec<String> = test
            .rows
            .iter()
            .map(|&r| key.key(&self.dataset.rows[r].report))
            .collect();
        let gallery = retrieval::unique_gallery(&reports);
        let dupes = test.n() - gallery.gallery.len();
        if dupes > 0 {
            self.notes.push(format!(
                "split {}: {} of {} reports repeat an earlier report string (gallery key: {}); i2t/t2i count only the paired copy as a hit (ties by index), i2t_unique uses a gallery of {} unique strings",
                test.name,
                dupes,
                test.n(),
                key.name(),
                gallery.gallery.len()
            ));
        }
        let chunk = self.chunk(test.n());
        let ranks: Vec<PairedRanks> = (0..self.models.len())
            .map(|m| retrieval::paired_ranks(test.image(m), test.text(m), chunk))
            .collect();
        let unique: Vec<Vec<usize>> = (0..self.models.len())
            .map(|m| retrieval::gallery_ranks(test.image(m), test.text(m), &gallery, chunk))
            .collect();
        RetrievalData {
            ranks,
            unique,
            median_rank: self.protocol.median_rank,
        }
    }
}

pub(super) struct RetrievalData {
    pub(super) ranks: Vec<PairedRanks>,
    pub(super) unique: Vec<Vec<usize>>,
    /// The protocol's median-rank convention.
    pub(super) median_rank: MedianRankConvention,
}

/// Retrieval metric names and their functions of the ranks (and the median-rank convention).
type RankMetric = fn(&[usize], &[usize], MedianRankConvention) -> f64;

fn rank_metrics() -> [(&'static str, RankMetric); 5] {
    [
        ("r@1", |r, i, _| retrieval::recall_at(r, 1, Some(i))),
        ("r@5", |r, i, _| retrieval::recall_at(r, 5, Some(i))),
        ("r@10", |r, i, _| retrieval::recall_at(r, 10, Some(i))),
        ("median_rank", |r, i, c| {
            retrieval::median_rank_with(r, Some(i), c)
        }),
        ("mrr", |r, i, _| retrieval::mrr(r, Some(i))),
    ]
}

impl RetrievalData {
    pub(super) fn specs<'s>(&'s self, test: &SplitViews) -> Vec<Spec<'s>> {
        let mut out = Vec::new();
        let n = test.n();
        let convention = self.median_rank;
        for setting in [Setting::I2t, Setting::T2i, Setting::I2tUnique] {
            for (metric, f) in rank_metrics() {
                let ranks_of = setting.clone();
                out.push(Spec::new(
                    Task::Retrieval,
                    setting.clone(),
                    metric,
                    n,
                    test.paired,
                    move |m, i| {
                        let ranks = match ranks_of {
                            Setting::I2t => &self.ranks[m].i2t,
                            Setting::T2i => &self.ranks[m].t2i,
                            _ => &self.unique[m],
                        };
                        f(ranks, i, convention)
                    },
                ));
            }
        }
        out
    }
}
