//! Paging of lists: [`Page`] (`page` ≥ 1, `per_page` 1–100, default 1 and
//! 20) and the offset/limit it stands for, or a keyset cursor (`after`: the
//! rows whose id is greater, SPEC §12), whose cost does not grow with the
//! position in the list. Running the query is the store's job.

use crate::error::{DomainError, ErrorKind};

/// Why a page request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PageError {
    /// `page` below 1.
    #[error("page must be at least 1 (got {0})")]
    Page(i64),
    /// `per_page` outside 1–100.
    #[error("per_page must be between 1 and 100 (got {0})")]
    PerPage(i64),
    /// A negative `after` cursor.
    #[error("after must be a non-negative id (got {0})")]
    After(i64),
    /// `page` and `after` together: one list position, one way.
    #[error("page and after cannot be combined; use after to continue a list")]
    PageAndAfter,
    /// `include` other than `total`.
    #[error("include must be 'total'")]
    Include,
}

impl PageError {
    /// Always [`ErrorKind::Invalid`].
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

impl DomainError for PageError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

/// A validated page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Page {
    page: i64,
    per_page: i64,
    /// Keyset mode: rows with an id greater than this.
    after: Option<i64>,
    /// Keyset mode: count the matching rows anyway (`include=total`).
    include_total: bool,
}

impl Page {
    /// The first page.
    pub const FIRST: i64 = 1;
    /// `per_page` when none is given.
    pub const DEFAULT_PER_PAGE: i64 = 20;
    /// The largest `per_page`.
    pub const MAX_PER_PAGE: i64 = 100;

    /// A page, 1-based.
    ///
    /// # Errors
    /// [`PageError`] naming the parameter out of range.
    pub const fn new(page: i64, per_page: i64) -> Result<Self, PageError> {
        if page < Self::FIRST {
            return Err(PageError::Page(page));
        }
        if per_page < 1 || per_page > Self::MAX_PER_PAGE {
            return Err(PageError::PerPage(per_page));
        }
        Ok(Self {
            page,
            per_page,
            after: None,
            include_total: false,
        })
    }

    /// A keyset page: the first `per_page` rows whose id is greater than
    /// `after` (`0` starts the list).
    ///
    /// # Errors
    /// [`PageError::After`] for a negative cursor; [`PageError::PerPage`].
    pub const fn after(after: i64, per_page: i64) -> Result<Self, PageError> {
        if after < 0 {
            return Err(PageError::After(after));
        }
        match Self::new(Self::FIRST, per_page) {
            Ok(page) => Ok(Self {
                after: Some(after),
                ..page
            }),
            Err(e) => Err(e),
        }
    }

    /// From the query parameters of a list that offers both modes
    /// (`page`/`per_page`, or `after`/`per_page` with an optional
    /// `include=total`).
    ///
    /// # Errors
    /// [`PageError::PageAndAfter`] when both `page` and `after` are given;
    /// [`PageError::Include`] for an `include` other than `total`; as
    /// [`Page::new`] and [`Page::after`].
    pub fn from_list_query(
        page: Option<i64>,
        per_page: Option<i64>,
        after: Option<i64>,
        include: Option<&str>,
    ) -> Result<Self, PageError> {
        let include_total = match include {
            None => false,
            Some("total") => true,
            Some(_) => return Err(PageError::Include),
        };
        match (page, after) {
            (Some(_), Some(_)) => Err(PageError::PageAndAfter),
            (_, Some(after)) => Ok(Self {
                include_total,
                ..Self::after(after, per_page.unwrap_or(Self::DEFAULT_PER_PAGE))?
            }),
            (page, None) => Self::from_query(page, per_page),
        }
    }

    /// The keyset cursor, in keyset mode.
    #[must_use]
    pub const fn cursor(self) -> Option<i64> {
        self.after
    }

    /// Whether the store counts the matching rows: always in page mode
    /// (the seeds' `total`), in keyset mode only when asked.
    #[must_use]
    pub const fn counts_total(self) -> bool {
        self.after.is_none() || self.include_total
    }

    /// The page number to show: `None` in keyset mode.
    #[must_use]
    pub const fn number(self) -> Option<i64> {
        if self.after.is_some() {
            None
        } else {
            Some(self.page)
        }
    }

    /// From optional query parameters, defaulting the missing ones.
    ///
    /// # Errors
    /// As [`Page::new`].
    pub fn from_query(page: Option<i64>, per_page: Option<i64>) -> Result<Self, PageError> {
        Self::new(
            page.unwrap_or(Self::FIRST),
            per_page.unwrap_or(Self::DEFAULT_PER_PAGE),
        )
    }

    /// The 1-based page number.
    #[must_use]
    pub const fn page(self) -> i64 {
        self.page
    }

    /// Items per page.
    #[must_use]
    pub const fn per_page(self) -> i64 {
        self.per_page
    }

    /// Rows to skip (saturates instead of overflowing for absurd pages);
    /// 0 in keyset mode.
    #[must_use]
    pub const fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// Rows to take.
    #[must_use]
    pub const fn limit(self) -> i64 {
        self.per_page
    }
}

impl Default for Page {
    fn default() -> Self {
        Self {
            page: Self::FIRST,
            per_page: Self::DEFAULT_PER_PAGE,
            after: None,
            include_total: false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_first_page_of_twenty() {
        let p = Page::default();
        assert_eq!(
            (p.page(), p.per_page(), p.offset(), p.limit()),
            (1, 20, 0, 20)
        );
        assert_eq!(Page::from_query(None, None), Ok(p));
    }

    #[test]
    fn offset_and_limit() {
        let p = Page::new(3, 25).unwrap();
        assert_eq!((p.offset(), p.limit()), (50, 25));
        assert_eq!(Page::new(1, 1).unwrap().offset(), 0);
        assert_eq!(Page::new(1, 100).unwrap().limit(), 100);
        assert_eq!(Page::new(i64::MAX, 100).unwrap().offset(), i64::MAX);
        assert_eq!(Page::from_query(Some(2), None).unwrap().offset(), 20);
    }

    #[test]
    fn out_of_range_is_refused() {
        assert_eq!(Page::new(0, 20), Err(PageError::Page(0)));
        assert_eq!(Page::new(-1, 20), Err(PageError::Page(-1)));
        assert_eq!(Page::new(1, 0), Err(PageError::PerPage(0)));
        assert_eq!(Page::new(1, 101), Err(PageError::PerPage(101)));
        assert_eq!(Page::new(1, i64::MIN), Err(PageError::PerPage(i64::MIN)));
        assert_eq!(
            PageError::PerPage(101).to_string(),
            "per_page must be between 1 and 100 (got 101)"
        );
        assert_eq!(
            PageError::Page(0).to_string(),
            "page must be at least 1 (got 0)"
        );
        assert_eq!(PageError::Page(0).kind(), ErrorKind::Invalid);
    }

    #[test]
    fn keyset_pages_start_after_a_cursor() {
        let p = Page::after(41, 50).unwrap();
        assert_eq!(
            (p.cursor(), p.offset(), p.limit(), p.number()),
            (Some(41), 0, 50, None)
        );
        assert!(!p.counts_total());
        assert_eq!(Page::after(-1, 20), Err(PageError::After(-1)));
        assert_eq!(Page::after(0, 101), Err(PageError::PerPage(101)));
        assert!(Page::default().counts_total());
        assert_eq!(Page::default().number(), Some(1));
        assert_eq!(Page::default().cursor(), None);
    }

    #[test]
    fn list_queries_take_one_mode() {
        assert_eq!(
            Page::from_list_query(None, None, None, None),
            Ok(Page::default())
        );
        assert_eq!(
            Page::from_list_query(Some(3), Some(10), None, None),
            Page::new(3, 10)
        );
        let p = Page::from_list_query(None, Some(10), Some(7), None).unwrap();
        assert_eq!(
            (p.cursor(), p.per_page(), p.counts_total()),
            (Some(7), 10, false)
        );
        let p = Page::from_list_query(None, None, Some(7), Some("total")).unwrap();
        assert_eq!((p.per_page(), p.counts_total()), (20, true));
        assert_eq!(
            Page::from_list_query(Some(1), None, Some(7), None),
            Err(PageError::PageAndAfter)
        );
        assert_eq!(
            Page::from_list_query(None, None, Some(7), Some("count")),
            Err(PageError::Include)
        );
        assert_eq!(
            Page::from_list_query(None, None, Some(-7), None),
            Err(PageError::After(-7))
        );
        assert_eq!(
            PageError::PageAndAfter.to_string(),
            "page and after cannot be combined; use after to continue a list"
        );
    }
}
