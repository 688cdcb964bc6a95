//! Browser smoke test. Drives a real headless Chromium (Debian's `chromium`) against a
//! running `fazhi serve --demo`: logs in as the demo admin, creates a user through the
//! form, checks the one-time password page, and saves screenshots (desktop and phone
//! width) to look at.
//!
//! Usage: `fazhi-e2e BASE_URL OUT_DIR [CHROMIUM_PATH]`. Exits non-zero, naming the step,
//! when anything fails.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::types::Bounds;
use headless_chrome::{Browser, LaunchOptions, Tab};

const DEMO_PASSWORD: &str = "Fazhi@demo2026";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: fazhi-e2e BASE_URL OUT_DIR [CHROMIUM_PATH]");
        std::process::exit(2);
    }
    let chromium = args.get(3).map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    match run(&args[1], Path::new(&args[2]), &chromium) {
        Ok(n) => println!("browser smoke test: 1 passed, 0 failed ({n} screenshots in {})", args[2]),
        Err(e) => {
            eprintln!("browser smoke test FAILED: {e:#}");
            println!("browser smoke test: 0 passed, 1 failed");
            std::process::exit(1);
        }
    }
}

fn shot(tab: &Tab, dir: &Path, name: &str) -> anyhow::Result<()> {
    let png = tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)?;
    std::fs::write(dir.join(format!("{name}.png")), png).with_context(|| format!("writing {name}.png"))
}

/// Sets form fields by name through the DOM (values only; submission is a real click).
fn fill(tab: &Tab, fields: &[(&str, &str)]) -> anyhow::Result<()> {
    for (name, value) in fields {
        let js = format!(
            "(() => {{ const el = document.querySelector('[name=\"{name}\"]'); if (!el) return false; el.value = {value}; return true; }})()",
            value = serde_json_string(value)
        );
        let r = tab.evaluate(&js, false)?;
        if r.value.and_then(|v| v.as_bool()) != Some(true) {
            bail!("form field {name} not found");
        }
    }
    Ok(())
}

fn serde_json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Sets fields of one form (selected by CSS) through the DOM.
fn fill_in(tab: &Tab, form: &str, fields: &[(&str, &str)]) -> anyhow::Result<()> {
    for (name, value) in fields {
        let js = format!(
            "(() => {{ const el = document.querySelector('{form} [name=\"{name}\"]'); if (!el) return false; if (el.type === 'checkbox') {{ el.checked = {value} === 'yes'; }} else {{ el.value = {value}; }} return true; }})()",
            value = serde_json_string(value)
        );
        let r = tab.evaluate(&js, false)?;
        if r.value.and_then(|v| v.as_bool()) != Some(true) {
            bail!("form field {form} {name} not found");
        }
    }
    Ok(())
}

/// Waits until the text of `selector` contains `expect` (a click's page load has finished).
fn wait_text(tab: &Tab, selector: &str, expect: &str) -> anyhow::Result<()> {
    for _ in 0..100 {
        let js =
            format!("(() => {{ const el = document.querySelector('{selector}'); return el ? el.innerText : ''; }})()");
        let got = tab.evaluate(&js, false)?.value.and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        if got.contains(expect) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("{selector} never showed {expect:?}; page: {}", text(tab)?.chars().take(600).collect::<String>())
}

fn text(tab: &Tab) -> anyhow::Result<String> {
    let r = tab.evaluate("document.body.innerText", false)?;
    Ok(r.value.and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
}

#[expect(
    clippy::too_many_lines,
    reason = "a linear browser walk-through: each step depends on the page the previous one left"
)]
fn run(base: &str, out: &Path, chromium: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(out)?;
    let profile = std::env::temp_dir().join(format!("fazhi-e2e-profile-{}", std::process::id()));
    let options = LaunchOptions::default_builder()
        .path(Some(chromium.to_path_buf()))
        .headless(true)
        .sandbox(false)
        .window_size(Some((1280, 900)))
        .user_data_dir(Some(profile.clone()))
        .idle_browser_timeout(Duration::from_secs(120))
        .args(vec![
            OsStr::new("--disable-background-networking"),
            OsStr::new("--disable-gpu"),
            OsStr::new("--disable-quic"),
            OsStr::new("--no-first-run"),
            OsStr::new("--disable-component-update"),
            OsStr::new("--disable-sync"),
            OsStr::new("--lang=zh-CN"),
        ])
        .build()
        .map_err(|e| anyhow::anyhow!("launch options: {e}"))?;
    let browser = Browser::new(options).context("starting chromium")?;
    let tab = browser.new_tab()?;
    tab.set_default_timeout(Duration::from_secs(20));

    // 1. Login page.
    tab.navigate_to(&format!("{base}/login"))?.wait_until_navigated()?;
    tab.wait_for_element("input[name=username]").context("login form")?;
    shot(&tab, out, "01-login")?;

    // 2. Log in as the demo admin, typing like a person.
    tab.find_element("input[name=username]")?.click()?;
    tab.type_str("admin")?;
    tab.find_element("input[name=password]")?.click()?;
    tab.type_str(DEMO_PASSWORD)?;
    tab.find_element("button[type=submit]")?.click()?;
    tab.wait_until_navigated()?;
    tab.wait_for_element("nav.sidenav").context("home page after login")?;
    let home = text(&tab)?;
    if !home.contains("王管理") || !home.contains("组织机构") {
        bail!("home page does not show the admin and the navigation: {home}");
    }
    shot(&tab, out, "02-home")?;

    // 3. Org tree.
    tab.navigate_to(&format!("{base}/org"))?.wait_until_navigated()?;
    tab.wait_for_element("ul.tree")?;
    shot(&tab, out, "03-org")?;

    // 4. New user: an empty submit shows field errors first.
    tab.navigate_to(&format!("{base}/users/new"))?.wait_until_navigated()?;
    tab.wait_for_element("input[name=username]")?;
    tab.evaluate("document.querySelectorAll('[required]').forEach(e => e.removeAttribute('required'))", false)?;
    tab.find_element("form.form button[type=submit]")?.click()?;
    tab.wait_until_navigated()?;
    tab.wait_for_element(".field-error").context("field errors on an empty form")?;
    let errs = text(&tab)?;
    if !errs.contains("用户名不能为空") || !errs.contains("姓名不能为空") {
        bail!("empty form did not name its fields: {errs}");
    }
    shot(&tab, out, "04-user-errors")?;

    let username = format!("e2e.{}", std::process::id());
    fill(&tab, &[("username", &username), ("display_name", "浏览器测试"), ("mobile", "13800000000")])?;
    let picked = tab.evaluate(
        "(() => { const s = document.querySelector('select[name=org_id]'); \
         const o = [...s.options].find(o => o.text.includes('万兴里社区')); if (!o) return false; s.value = o.value; \
         return true; })()",
        false,
    )?;
    if picked.value.and_then(|v| v.as_bool()) != Some(true) {
        // 三员分立: the 系统管理员 creates the account; the 安全管理员 gives it its roles.
        bail!("could not choose the org in the user form");
    }
    tab.find_element("form.form button[type=submit]")?.click()?;
    tab.wait_until_navigated()?;
    let pw = tab.wait_for_element("#one-time-password").context("one-time password page")?.get_inner_text()?;
    if pw.chars().count() < 10 {
        bail!("one-time password looks wrong: {pw:?}");
    }
    shot(&tab, out, "05-user-created")?;

    // 5. The new user is in the list.
    tab.navigate_to(&format!("{base}/users?q={username}"))?.wait_until_navigated()?;
    if !text(&tab)?.contains("浏览器测试") {
        bail!("new user not listed");
    }
    shot(&tab, out, "06-users")?;

    // 6. Full-text search, a record page with its timeline, and the public ledger page.
    tab.navigate_to(&format!("{base}/search?q=%E7%BD%91%E6%A0%BC"))?.wait_until_navigated()?;
    if !text(&tab)?.contains("万兴里第一网格") {
        bail!("search for 网格 did not find the demo grid");
    }
    tab.wait_for_element("mark").context("highlighted search hit")?;
    shot(&tab, out, "07-search")?;
    tab.navigate_to(&format!("{base}/org"))?.wait_until_navigated()?;
    tab.find_element("ul.tree a")?.click()?;
    tab.wait_until_navigated()?;
    tab.wait_for_element("ol.timeline").context("timeline on the record page")?;
    shot(&tab, out, "08-record-timeline")?;
    tab.navigate_to(&format!("{base}/ledger"))?.wait_until_navigated()?;
    if !text(&tab)?.contains("平台公钥") {
        bail!("public ledger page incomplete");
    }
    shot(&tab, out, "09-ledger-portal")?;

    // 7. Deadlines: the demo has an overdue and a nearly due one, each explained.
    tab.navigate_to(&format!("{base}/clocks"))?.wait_until_navigated()?;
    let clocks = text(&tab)?;
    if !clocks.contains("红牌") || !clocks.contains("黄牌") {
        bail!("deadline page does not show the demo's red and yellow cards: {clocks}");
    }
    tab.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)", false)?;
    shot(&tab, out, "10-clocks")?;

    // 8. The petition desk: log out, log in as the demo petition worker, open an item.
    // Each step waits for what only the next page has: a click's navigation may not have
    // started yet when `wait_until_navigated` returns.
    tab.find_element("button.btn-link")?.click()?;
    tab.wait_for_element("body.login-bg input[name=username]").context("login page after logout")?.click()?;
    tab.type_str("xinfang")?;
    tab.find_element("input[name=password]")?.click()?;
    tab.type_str(DEMO_PASSWORD)?;
    tab.find_element("button[type=submit]")?.click()?;
    tab.wait_for_element("nav.sidenav").context("home page after logging in as xinfang")?;
    tab.navigate_to(&format!("{base}/petitions"))?.wait_until_navigated()?;
    tab.wait_for_element("table.table tbody a[href^='/petitions/']").context("petition list")?;
    shot(&tab, out, "11-petitions")?;
    tab.find_element("table.table tbody a[href^='/petitions/']")?.click()?;
    tab.wait_for_element("div.clock").context("petition item with its clocks")?;
    shot(&tab, out, "12-petition-item")?;

    // 9. The walk-through of issue 5: a petition taken at the desk, accepted, assigned (交办)
    // to a community, extended with approval, answered, followed on the portal by its code,
    // served and closed; then its opinion document, the indicators, mediation, receptions.
    tab.navigate_to(&format!("{base}/petitions/new"))?.wait_until_navigated()?;
    tab.wait_for_element("#intake-form input[name=title]").context("intake form")?;
    fill_in(
        &tab,
        "#intake-form",
        &[
            ("name", "周桂英"),
            ("phone", "13912345678"),
            ("title", "小区地下室长期积水"),
            ("content", "万兴里小区 7 号楼地下室长期积水，蚊虫滋生，物业多次推诿，请求街道协调处理"),
        ],
    )?;
    shot(&tab, out, "14-intake-form")?;
    tab.find_element("#intake-form button[type=submit]")?.click()?;
    tab.wait_for_element("code.secret").context("intake receipt with the tracking code")?;
    let code = tab.find_element("code.secret")?.get_inner_text()?;
    let href = tab
        .evaluate("document.querySelector('a.btn-primary[href^=\"/petitions/\"]').getAttribute('href')", false)?
        .value
        .and_then(|v| v.as_str().map(str::to_owned))
        .context("link to the new item")?;
    shot(&tab, out, "15-intake-receipt")?;
    let item = format!("{base}{href}");
    let step = |form: &str, fields: &[(&str, &str)], expect: &str| -> anyhow::Result<()> {
        tab.navigate_to(&item)?.wait_until_navigated()?;
        tab.wait_for_element(&format!("{form} button")).with_context(|| format!("form {form}"))?;
        fill_in(&tab, form, fields)?;
        tab.find_element(&format!("{form} button"))?.click()?;
        wait_text(&tab, "#petition-state", expect)
    };
    step("#form-accept", &[], "已受理")?;
    tab.navigate_to(&item)?.wait_until_navigated()?;
    tab.wait_for_element("#form-assign select")?;
    let community = tab
        .evaluate(
            "[...document.querySelectorAll('#form-assign select option')].find(o => o.text.includes('万兴里社区')).value",
            false,
        )?
        .value
        .and_then(|v| v.as_str().map(str::to_owned))
        .context("万兴里社区 among the assignees")?;
    step("#form-assign", &[("target", &community), ("reason", "请社区会同物业查明积水原因，十日内反馈")], "办理中")?;
    // A refused extension (no approval) changes nothing and says why.
    tab.navigate_to(&item)?.wait_until_navigated()?;
    tab.wait_for_element("#form-extend button")?;
    fill_in(&tab, "#form-extend", &[("days", "45"), ("reason", "需专业检测")])?;
    tab.find_element("#form-extend button")?.click()?;
    tab.wait_for_element("div.notice-error").context("refused extension")?;
    let page = text(&tab)?;
    if !page.contains("30 日") {
        bail!("an extension of 45 days was not refused with the rule: {page}");
    }
    shot(&tab, out, "16-extension-refused")?;
    tab.navigate_to(&item)?.wait_until_navigated()?;
    tab.wait_for_element("#form-extend button")?;
    fill_in(&tab, "#form-extend", &[("days", "15"), ("reason", "需专业机构检测渗漏点"), ("approved", "yes")])?;
    tab.find_element("#form-extend button")?.click()?;
    tab.wait_for_element("span.tag-yellow").context("extended tag")?;
    step(
        "#form-reply",
        &[
            ("outcome", "support"),
            ("legal_basis", "《物业管理条例》第三十五条、第五十五条"),
            ("text", "经现场核查，积水系排水管破损所致，已责成物业十日内维修并抽排积水"),
        ],
        "已出具意见",
    )?;
    tab.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)", false)?;
    shot(&tab, out, "17-petition-answered")?;
    // The petitioner follows it on the portal by the code alone.
    tab.navigate_to(&format!("{base}/track"))?.wait_until_navigated()?;
    tab.wait_for_element("input[name=code]")?;
    fill_in(&tab, "#track-form", &[("code", &code)])?;
    tab.find_element("#track-form button")?.click()?;
    wait_text(&tab, "main", "已出具意见")?;
    shot(&tab, out, "18-portal-track")?;
    step("#form-serve", &[], "已送达")?;
    step("#form-close", &[], "已办结")?;
    tab.navigate_to(&format!("{base}/track"))?.wait_until_navigated()?;
    tab.wait_for_element("input[name=code]")?;
    fill_in(&tab, "#track-form", &[("code", &code)])?;
    tab.find_element("#track-form button")?.click()?;
    wait_text(&tab, "main", "已办结")?;
    wait_text(&tab, "main", "已责成物业")?;
    tab.navigate_to(&format!("{item}/opinion"))?.wait_until_navigated()?;
    tab.wait_for_element("article.gbdoc").context("opinion print view")?;
    shot(&tab, out, "19-opinion")?;
    tab.navigate_to(&format!("{base}/petitions/indicators"))?.wait_until_navigated()?;
    tab.wait_for_element("#ind-closed").context("indicators")?;
    shot(&tab, out, "20-indicators")?;
    tab.find_element("#ind-closed_in_time a")?.click()?;
    tab.wait_for_element("table.table tbody a[href^='/petitions/']").context("items behind an indicator")?;
    tab.navigate_to(&format!("{base}/mediations"))?.wait_until_navigated()?;
    tab.wait_for_element("table.table tbody a[href^='/mediations/']").context("mediation list")?;
    tab.find_element("table.table tbody a[href^='/mediations/']")?.click()?;
    tab.wait_for_element("dl.facts").context("mediation case")?;
    shot(&tab, out, "21-mediation")?;
    tab.navigate_to(&format!("{base}/receptions"))?.wait_until_navigated()?;
    tab.wait_for_element("form[action='/receptions/records']").context("receptions")?;
    shot(&tab, out, "22-receptions")?;
    tab.navigate_to(&format!("{base}/jiefang"))?.wait_until_navigated()?;
    wait_text(&tab, "main", "接访领导")?;
    shot(&tab, out, "23-portal-reception-schedule")?;

    // 10. Phone width.
    tab.set_bounds(Bounds::Normal { left: Some(0), top: Some(0), width: Some(390.0), height: Some(844.0) })?;
    tab.navigate_to(&format!("{base}/petitions"))?.wait_until_navigated()?;
    std::thread::sleep(Duration::from_millis(300));
    shot(&tab, out, "13-phone-petitions")?;

    drop(tab);
    drop(browser);
    let _ = std::fs::remove_dir_all(profile);
    Ok(23)
}
