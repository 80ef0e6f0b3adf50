//! Public status pages and badges: what anyone may see of the monitors an owner chose to
//! show, without logging in. The page is HTML rendered on the server (maud), the same
//! figures as JSON, its incidents as an Atom feed, and SVG badges for READMEs. Nothing here
//! shows a monitor's URL or settings, or anything of a monitor no page lists.

mod badge;
mod feed;
mod html;
mod json;
mod routes;
mod spec;
pub mod view;

pub use json::PublicPageView;
pub use routes::{MAX_AGE_SECONDS, router};
pub use spec::{
    MAX_DESCRIPTION, MAX_MONITORS, MAX_SLUG, MAX_TITLE, Slug, StatusPage, StatusPageDraft,
    StatusPageError, StatusPageId, StatusPagePatch, StatusPageSpec,
};
