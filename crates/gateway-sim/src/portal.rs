//! The sandbox's stand-in for the provincial web portal (证照查询): the page 网页模式 opens in sandbox
//! mode, so trying the app never sends a clerk to the real portal.

use crate::samples;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

/// Where the page is served, beside the other `/sim` routes.
pub const PORTAL_PATH: &str = "/sim/portal";

/// The page's title, which a test (and the clerk) recognizes it by.
pub const PORTAL_TITLE: &str = "证照查询（沙箱）";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `GET /sim/portal`: a small static page naming what it stands in for, with the sample
/// enterprises one could look up there.
pub(crate) async fn page() -> impl IntoResponse {
    let rows: String = samples::enterprises()
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                escape(&e.name),
                escape(&e.uscc),
                e.licenses.len()
            )
        })
        .collect();
    let html = format!(
        r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{PORTAL_TITLE}</title>
<style>
body {{ font-family: sans-serif; margin: 2rem auto; max-width: 52rem; color: #1f2933; padding: 0 1rem; }}
.note {{ background: #fff7e0; border: 1px solid #e0b040; padding: .75rem 1rem; border-radius: 6px; }}
table {{ border-collapse: collapse; margin-top: 1rem; width: 100%; }}
td, th {{ border-bottom: 1px solid #d9e2ec; padding: .4rem .5rem; text-align: left; }}
</style>
</head>
<body>
<h1>{PORTAL_TITLE}</h1>
<p class="note">这是沙箱网关提供的演示页面，代替广东政务服务网的证照查询（网页模式）。
真实柜台在省网关连不上时，会在系统浏览器中打开配置项 <code>[lookup] portal_url</code> 所指的省门户
（默认 https://www.gdzwfw.gov.cn/），由窗口人员在门户上手工查询证照。</p>
<p>沙箱中的示例企业：</p>
<table>
<thead><tr><th>企业名称</th><th>统一社会信用代码</th><th>证照数</th></tr></thead>
<tbody>{rows}</tbody>
</table>
</body>
</html>
"#
    );
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], html)
}
