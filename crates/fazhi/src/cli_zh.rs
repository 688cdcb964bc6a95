//! The command line in Chinese (issue 14): every command's and argument's help text, clap's
//! own headings, flags and errors. The English doc comments on the clap types stay for
//! developers; what a user reads comes from the tables here, applied to the whole command
//! tree by [`localize`], and a test fails when a command or argument has no Chinese text.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command};

/// Chinese help of each command, by its path (`fazhi ledger verify`).
const ABOUT: &[(&str, &str)] = &[
    ("fazhi", "fazhi 法治政府建设工作平台"),
    ("fazhi serve", "启动职工端网页和接口。首次启动时创建数据目录、区、街道和管理员，并打印管理员的一次性密码"),
    ("fazhi init", "新建一个安装（数据目录、数据库、区、街道、管理员）"),
    ("fazhi user", "在命令行管理用户账号"),
    ("fazhi user add", "新建用户，打印一次性密码"),
    (
        "fazhi user roles",
        "替换用户的角色（三员分立：由运维人员指定安全管理员、审计管理员，如 --role security_admin）；不带 --role 即去掉全部角色",
    ),
    ("fazhi user passwd", "为用户设置新的一次性密码并打印"),
    ("fazhi user disable", "停用用户，其会话立即失效"),
    ("fazhi user enable", "重新启用已停用的用户"),
    (
        "fazhi user token",
        "为对接账户签发接口令牌并打印（只显示一次）；持有业务权限的对接账户，其令牌由运维人员在此签发",
    ),
    ("fazhi calendar", "工作日日历：法定期限的到期日及其计算说明"),
    ("fazhi calendar due", "某事件之后 N 日的到期日，逐项说明跳过的节假日和计入的调休上班日；从 --from 的次日起算"),
    ("fazhi calendar years", "已有节假日安排的年份"),
    (
        "fazhi calendar import",
        "从文本文件导入某年的节假日安排（国务院办公厅通知），分两步：不带 --confirm 时只显示将有的变化（日期、缺少的法定节日、将改变的未到期期限）和确认码，不写入；带 --confirm 确认码时导入，未到期的期限随之重算并记入账本",
    ),
    ("fazhi calendar show", "显示某年的安排：每个放假日和调休上班日及其来源"),
    ("fazhi clocks", "立即检查全部未到期的法定期限（每日任务在一天开始时也会检查）"),
    ("fazhi ledger", "防篡改记录账本：核验、证明、检查点、密钥"),
    (
        "fazhi ledger verify",
        "由存储的记录重新计算每条记录和根，检查每个签名检查点；发现改动时以非零状态退出并指出第一条有问题的记录",
    ),
    (
        "fazhi ledger export",
        "把签名检查点（每个账本最新的；加 --history 为全部）和密钥导出为 JSON，另行保存在本服务器之外",
    ),
    (
        "fazhi ledger witness",
        "见证另一安装的检查点（区见证其街道）：取回检查点，用一致性证明与此前见证的检查点比对，并保存新的；账本变短或被改写时失败",
    ),
    ("fazhi ledger proof", "以 JSON 打印一条记录、其包含证明和最新的签名检查点"),
    ("fazhi ledger check-proof", "离线核验一个证明 JSON 文件（不需要数据库）"),
    ("fazhi ledger checkpoint", "立即为自上次检查点以来有新记录的每个账本签发检查点"),
    ("fazhi ledger key", "打印用于核验本安装检查点的公钥"),
    ("fazhi backup", "把一致的备份（数据库快照、签名密钥、配置、附件、清单）写入一个新目录；服务器可照常运行"),
    ("fazhi restore", "把备份恢复到配置的空数据目录或空数据库，然后按清单核验"),
    ("fazhi db", "数据库工具：在 SQLite 与 PostgreSQL 之间复制整个安装"),
    (
        "fazhi db copy",
        "把全部记录从一个数据库复制到另一个（SQLite 与 PostgreSQL 双向均可）。目标须为空：先建表，在一个事务中写入，再核对（行数、每个账本的根）",
    ),
];

/// Chinese help of each argument, by its command's path and the argument's id (arguments
/// defined on `fazhi` and propagated to every subcommand are looked up under `fazhi`).
const HELP: &[(&str, &str, &str)] = &[
    ("fazhi", "config", "配置文件（TOML）。默认：数据目录中的 fazhi.toml（如有）"),
    ("fazhi", "data_dir", "数据目录（SQLite 数据库、附件和密钥）。默认 ./fazhi-data（serve --demo 时为 ./fazhi-demo）"),
    ("fazhi", "database_url", "数据库地址，如 postgres://user@host/db。默认：数据目录中的 SQLite"),
    ("fazhi serve", "listen", "监听地址，如 127.0.0.1:8080"),
    ("fazhi serve", "demo", "启动演示安装（单独的数据目录 ./fazhi-demo），含演示数据和每个内置角色的演示账号"),
    ("fazhi serve", "secure_cookies", "Cookie 加 Secure 标记（用户经 https 访问时设置）"),
    (
        "fazhi serve",
        "rotate_key",
        "启用本节点的密钥（数据目录中的 ledger.key，缺少时生成）作为本安装的检查点签名密钥，停用原密钥（记入账本）。未指定时，数据库不认识其密钥的节点拒绝启动",
    ),
    ("fazhi init", "district", "区的名称"),
    ("fazhi init", "street", "街道或乡镇的名称"),
    ("fazhi init", "admin", "首个管理员的用户名"),
    ("fazhi user add", "username", "用户名（英文字母开头，3–32 位字母、数字、. _ -）"),
    ("fazhi user add", "name", "真实姓名"),
    ("fazhi user add", "org", "所在机构节点的编号"),
    (
        "fazhi user add",
        "roles",
        "内置或自定义角色代码（可重复），如 admin、security_admin、auditor、enforcement_officer",
    ),
    ("fazhi user add", "mobile", "手机号（可不填）"),
    ("fazhi user add", "integration", "对接账户（12345 热线、信访平台）：不能用密码登录，只用接口令牌"),
    ("fazhi user roles", "username", "用户名"),
    ("fazhi user roles", "roles", "内置或自定义角色代码（可重复）"),
    ("fazhi user passwd", "username", "用户名"),
    ("fazhi user disable", "username", "用户名"),
    ("fazhi user enable", "username", "用户名"),
    ("fazhi user token", "username", "对接账户的用户名"),
    ("fazhi user token", "name", "令牌用途，如「12345 热线对接」"),
    ("fazhi calendar due", "from", "引起期限的事件日期，YYYY-MM-DD"),
    ("fazhi calendar due", "days", "期限长度"),
    ("fazhi calendar due", "unit", "期限单位：工作日或自然日"),
    ("fazhi calendar due", "roll", "以自然日计的期限届满日为节假日的，顺延至其后第一个工作日（民事诉讼法 第八十五条）"),
    ("fazhi calendar due", "json", "以 JSON 打印：{\"due\": \"YYYY-MM-DD\", \"steps\": [...]}"),
    ("fazhi calendar import", "file", "节假日安排文本文件"),
    ("fazhi calendar import", "confirm", "同一文件预览时打印的确认码（文件或日历在预览后有变化的，拒绝导入）"),
    (
        "fazhi calendar import",
        "override_reason",
        "某年缺少《全国年节及纪念日放假办法》规定的法定节日仍要导入时，写明理由（记入账本）",
    ),
    ("fazhi calendar show", "year", "年份，如 2027"),
    ("fazhi ledger verify", "org", "只核验该机构（街道、乡镇或区的编号）的账本"),
    (
        "fazhi ledger verify",
        "checkpoint",
        "同时用别处保存的检查点核对数据库：ledger export 写出的文件，或门户网站地址。账本短于或不符合其中任一检查点的，核验失败。须同时指定 --key",
    ),
    ("fazhi ledger verify", "key", "可信的公钥（已公布、与本服务器分开保存），--checkpoint 的检查点须由它签名"),
    ("fazhi ledger export", "out", "输出文件（默认打印到屏幕）"),
    ("fazhi ledger export", "history", "导出全部历史检查点，而不只是每个账本最新的"),
    ("fazhi ledger witness", "url", "门户网站地址，如 https://wanxing.example.gov.cn"),
    ("fazhi ledger witness", "key", "该安装公布的公钥"),
    ("fazhi ledger witness", "state", "见证过的检查点保存在哪里（默认：数据目录中的 witness.json）"),
    ("fazhi ledger proof", "org", "账本所属机构的编号"),
    ("fazhi ledger proof", "seq", "记录序号"),
    ("fazhi ledger check-proof", "file", "证明 JSON 文件"),
    ("fazhi ledger check-proof", "key", "该安装公布的公钥；不指定时使用文件内的公钥，只能证明文件自身一致"),
    ("fazhi backup", "dest", "尚不存在（或为空）的目录"),
    ("fazhi restore", "src", "fazhi backup 写出的目录"),
    ("fazhi db copy", "from", "源数据库地址（sqlite://文件 或 postgres://…）"),
    ("fazhi db copy", "to", "目标数据库地址；SQLite 文件不存在时新建"),
];

fn about_of(path: &str) -> Option<&'static str> {
    ABOUT.iter().find(|(p, _)| *p == path).map(|(_, t)| *t)
}

fn help_of(path: &str, id: &str) -> Option<&'static str> {
    HELP.iter()
        .find(|(p, a, _)| *p == path && *a == id)
        .or_else(|| HELP.iter().find(|(p, a, _)| *p == "fazhi" && *a == id))
        .map(|(_, _, t)| *t)
}

/// The whole command tree with Chinese texts: about, argument help, headings, the help and
/// version flags (clap's own are replaced), no `help` subcommand.
pub fn localize(cmd: Command) -> Command {
    localize_at(cmd, "fazhi", true)
}

fn localize_at(mut cmd: Command, path: &str, root: bool) -> Command {
    if let Some(t) = about_of(path) {
        cmd = cmd.about(t).long_about(None);
    }
    let ids: Vec<String> = cmd.get_arguments().map(|a| a.get_id().to_string()).collect();
    for id in ids {
        if let Some(t) = help_of(path, &id) {
            cmd = cmd.mut_arg(id.as_str(), |a| a.help(t).long_help(None));
        }
    }
    cmd = cmd
        .disable_help_flag(true)
        .disable_help_subcommand(true)
        .arg(Arg::new("help").short('h').long("help").action(ArgAction::Help).help("显示本帮助").global(false));
    if root {
        cmd = cmd
            .disable_version_flag(true)
            .arg(Arg::new("version").short('V').long("version").action(ArgAction::Version).help("显示版本"));
    }
    let has_sub = cmd.get_subcommands().next().is_some();
    let has_pos = cmd.get_positionals().next().is_some();
    let mut template = String::from("{about-with-newline}\n用法：{usage}\n");
    if has_sub {
        template.push_str("\n命令：\n{subcommands}\n");
    }
    if has_pos {
        template.push_str("\n参数：\n{positionals}\n");
    }
    template.push_str("\n选项：\n{options}\n{after-help}");
    cmd = cmd.help_template(template).subcommand_value_name("命令").subcommand_help_heading("命令");
    let subs: Vec<String> = cmd.get_subcommands().map(|c| c.get_name().to_owned()).collect();
    for name in subs {
        let sub_path = format!("{path} {name}");
        cmd = cmd.mut_subcommand(name.as_str(), |c| localize_at(c, &sub_path, false));
    }
    cmd
}

/// A clap error in Chinese, naming the argument at fault; help and version pass through.
pub fn message(e: &clap::Error) -> String {
    let ctx = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join("、"),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let arg = ctx(ContextKind::InvalidArg);
    let value = ctx(ContextKind::InvalidValue);
    let what = match e.kind() {
        ErrorKind::UnknownArgument => format!("无法识别的参数 {arg}"),
        ErrorKind::InvalidSubcommand => format!("没有命令 {}", ctx(ContextKind::InvalidSubcommand)),
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => "请指定命令".to_owned(),
        ErrorKind::MissingRequiredArgument => format!("缺少必填参数 {arg}"),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let valid = ctx(ContextKind::ValidValue);
            if value.is_empty() {
                format!("参数 {arg} 缺少值")
            } else if valid.is_empty() {
                format!("参数 {arg} 的值「{value}」不正确")
            } else {
                format!("参数 {arg} 的值「{value}」不正确，可选：{valid}")
            }
        }
        ErrorKind::ArgumentConflict => format!("参数 {arg} 不能与 {} 同时使用", ctx(ContextKind::PriorArg)),
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            format!("参数 {arg} 的值个数不正确")
        }
        ErrorKind::NoEquals => format!("参数 {arg} 须写成 {arg}=值"),
        ErrorKind::InvalidUtf8 => "参数含有无效的字符（须为 UTF-8）".to_owned(),
        _ => "命令行参数不正确".to_owned(),
    };
    format!("错误：{what}。用 --help 查看用法。")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn walk(cmd: &Command, path: &str, missing: &mut Vec<String>) {
        if about_of(path).is_none() {
            missing.push(format!("(\"{path}\", \"{}\"),", cmd.get_about().map(|a| a.to_string()).unwrap_or_default()));
        }
        for a in cmd.get_arguments() {
            let id = a.get_id().as_str();
            if matches!(id, "help" | "version") || (path != "fazhi" && a.is_global_set()) {
                continue;
            }
            if help_of(path, id).is_none() {
                missing.push(format!(
                    "(\"{path}\", \"{id}\", \"{}\"),",
                    a.get_help().map(|h| h.to_string()).unwrap_or_default()
                ));
            }
        }
        for c in cmd.get_subcommands() {
            walk(c, &format!("{path} {}", c.get_name()), missing);
        }
    }

    #[test]
    fn every_command_and_argument_has_chinese_help() {
        let mut missing = Vec::new();
        walk(&crate::Cli::command(), "fazhi", &mut missing);
        assert!(missing.is_empty(), "no Chinese help for:\n{}", missing.join("\n"));
    }

    #[test]
    fn help_and_errors_read_chinese() {
        let mut cmd = localize(crate::Cli::command());
        let help = cmd.render_help().to_string();
        assert!(
            help.contains("用法：")
                && help.contains("命令：")
                && help.contains("选项：")
                && help.contains("显示本帮助"),
            "{help}"
        );
        assert!(!help.contains("Usage") && !help.contains("Print help"), "{help}");
        let e = localize(crate::Cli::command()).try_get_matches_from(["fazhi", "--nope"]).unwrap_err();
        assert_eq!(message(&e), "错误：无法识别的参数 --nope。用 --help 查看用法。");
    }
}
