"""Labels of the reports in English and Chinese."""

from __future__ import annotations

from pathsec.audit.models import FindingSeverity, Text
from pathsec.report.checks import CheckStatus
from pathsec.report.interface import ReportLang

LABELS: dict[str, Text] = {
    k: Text(en=en, zh=zh)
    for k, en, zh in [
        ("title", "pathsec audit report", "pathsec 审核报告"),
        ("summary", "Summary", "摘要"),
        ("profile", "Profile", "配置文件"),
        ("started", "Started", "开始时间"),
        ("finished", "Finished", "结束时间"),
        ("complete", "Complete run", "运行完整"),
        ("incomplete", "The run was cut short: results are partial.", "运行被中断:结果不完整。"),
        ("yes", "yes", "是"),
        ("no", "no", "否"),
        ("findings", "Findings", "发现"),
        ("endpoints", "Endpoints", "终结点"),
        ("n_endpoints", "{n} endpoints:", "{n} 个终结点:"),
        ("n_more", "… and {n} more", "… 另有 {n} 个"),
        (
            "more_checks",
            "… and {n} more checks (every check: --format markdown, csv, html or json)",
            "… 另有 {n} 项检查(全部检查:--format markdown、csv、html 或 json)",
        ),
        (
            "evidence_differs",
            "(more evidence, per endpoint: --format markdown, html or json)",
            "(各终结点的更多证据:--format markdown、html 或 json)",
        ),
        ("checks", "Checks", "检查"),
        ("severity", "Severity", "严重性"),
        ("id", "ID", "编号"),
        ("title_col", "Title", "标题"),
        ("host", "Host", "主机"),
        ("port", "Port", "端口"),
        ("protocol", "Protocol", "协议"),
        ("role", "Role", "角色"),
        ("zone", "Zone", "区域"),
        ("path", "Data path", "数据路径"),
        ("flow", "Flow", "流"),
        ("status", "Status", "状态"),
        ("reason", "Reason", "原因"),
        ("evidence", "Evidence", "证据"),
        ("remediation", "Remediation", "修正措施"),
        ("observations", "Observations", "观察结果"),
        ("transcript", "Transcript", "会话记录"),
        ("score", "Score", "得分"),
        ("scores_role", "Score per role", "按角色得分"),
        ("scores_zone", "Score per zone", "按区域得分"),
        ("overall", "Overall score", "总得分"),
        ("diagram", "Data paths", "数据路径图"),
        ("details", "Details", "详细信息"),
        ("filter", "Filter", "筛选"),
        ("all", "all", "全部"),
        ("shown", "shown", "显示"),
        ("no_findings", "No findings.", "没有发现。"),
        ("default_auth", "Default authentication", "默认身份验证"),
        ("supported_auth", "Supported authentication", "支持的身份验证"),
        ("encryption", "Encryption (expected)", "加密(预期)"),
        ("source", "Source", "源"),
        ("destination", "Destination", "目标"),
        ("observed", "observed", "已观察"),
        ("not_audited", "not audited", "未审核"),
        ("vantage", "pathsec (vantage point)", "pathsec(审核位置)"),
        (
            "diagram_note",
            "One arrow per ordered pair of hosts (per role group in a zone of many hosts), "
            "carrying all the flows between them; flows inside one box are its ⟲ chip. "
            "Walls between zones are the firewalls, with their rule counts. Hover for ports, "
            "click to list the flows. Wheel or + / − zoom, drag or arrow keys pan, "
            "0 fits the width, 1 fits everything.",
            "每对有序主机之间一条箭头(主机众多的区域按角色分组),承载两者之间的全部流;"
            "框内部的流显示为 ⟲ 标签。区域之间的墙是防火墙,标有规则数。悬停查看端口,"
            "单击列出流。滚轮或 + / − 缩放,拖动或方向键平移,0 适合宽度,1 显示全部。",
        ),
        (
            "score_note",
            "100 = every observed check clean; each check loses the weight of its "
            "worst finding (critical 1, high 0.7, medium 0.4, low 0.15, info 0).",
            "100 = 每项已观察的检查均无问题;每项检查扣除其最严重发现的权重"
            "(严重 1、高 0.7、中 0.4、低 0.15、信息 0)。",
        ),
        ("plan_title", "pathsec plan report", "pathsec 规划报告"),
        ("deployment", "Deployment", "部署"),
        ("zones", "Zones", "区域"),
        (
            "zones_note",
            "Every zone of the plan, also those no flow ends in.",
            "规划中的每个区域,包括没有任何流以其为目标的区域。",
        ),
        ("kind", "Kind", "类型"),
        ("cidrs", "Address ranges", "地址范围"),
        ("hosts", "Hosts", "主机"),
        ("flows", "Flows", "流"),
        ("flows_from", "Flows from", "源自此处的流"),
        ("flows_to", "Flows to", "到达此处的流"),
        ("firewalls", "Firewalls", "防火墙"),
        ("firewall", "Firewall", "防火墙"),
        ("interfaces", "Interfaces", "接口"),
        ("crossing", "Flows crossing", "经过的流"),
        ("rules", "Rules", "规则"),
        ("refused", "Refused", "拒绝"),
        ("rules_word", "rules", "条规则"),
        ("refused_word", "refused", "个拒绝"),
        ("site", "Site", "站点"),
        ("roles", "Roles", "角色"),
        ("addresses", "Addresses", "地址"),
        ("host_firewall", "Host firewall", "主机防火墙"),
        ("topology", "Topology findings", "拓扑发现"),
        ("message", "Message", "说明"),
        ("rule", "Catalog rule", "目录规则"),
        ("objects", "Objects", "对象"),
        ("no_topology", "No topology findings.", "没有拓扑发现。"),
        ("fw_rules", "Firewall rules", "防火墙规则"),
        (
            "fw_rules_note",
            "The accept rules pathsec firewall writes for each network and host firewall "
            "(everything else is dropped). A flow that cannot become a rule is listed as "
            "refused, with the reason.",
            "pathsec firewall 为每个网络防火墙和主机防火墙生成的允许规则(其余一律丢弃)。"
            "无法生成规则的流列为拒绝,并说明原因。",
        ),
        ("network_fw", "network firewall", "网络防火墙"),
        ("host_fw", "host firewall", "主机防火墙"),
        ("unknown_interfaces", "No interface known for zone(s)", "以下区域没有已知接口"),
        ("refused_flows", "Refused flows", "拒绝的流"),
        ("no_rules", "No firewall in the plan.", "规划中没有防火墙。"),
        ("search", "Search", "搜索"),
        ("page_size", "Rows per page", "每页行数"),
        ("authentication", "Default authentication", "默认身份验证"),
        ("enc_default", "Encrypted by default", "默认加密"),
        ("crosses", "Firewalls crossed", "经过的防火墙"),
        ("protocol_port", "Protocol/ports", "协议/端口"),
        ("in_out", "Interfaces (in → out)", "接口(入 → 出)"),
        ("number", "#", "#"),
        ("source_addresses", "Source addresses", "源地址"),
        ("destination_addresses", "Destination addresses", "目标地址"),
        ("zoom_in", "Zoom in", "放大"),
        ("zoom_out", "Zoom out", "缩小"),
        ("fit_width", "Fit width", "适合宽度"),
        ("fit_all", "Fit all", "全部显示"),
        ("needs_js", "The diagram and the tables need JavaScript.", "图和表格需要 JavaScript。"),
        ("enc_legend", "encrypted by default", "默认加密"),
        ("plain_legend", "not encrypted by default", "默认不加密"),
        ("cond_legend", "conditionally encrypted", "有条件加密"),
        ("mixed_legend", "mixed", "混合"),
        ("column", "Column", "列"),
        ("endpoints_zone", "audited endpoints", "已审核的终结点"),
        ("findings_rows", "rows", "行"),
        ("count", "Count", "数量"),
        ("paths_col", "Data paths", "数据路径"),
    ]
}

#: Labels the page's script uses, with {n}-style placeholders.
SCRIPT_LABELS: dict[str, Text] = {
    k: Text(en=en, zh=zh)
    for k, en, zh in [
        ("all", "all", "全部"),
        ("host_fw_prefix", "host", "主机"),
        ("n_flows", "{n} flows", "{n} 个流"),
        ("n_flows_1", "{n} flow", "{n} 个流"),
        ("n_hosts_1", "{n} host", "{n} 台主机"),
        ("n_rules_1", "{n} rule", "{n} 条规则"),
        ("n_hosts", "{n} hosts", "{n} 台主机"),
        ("n_rules", "{n} rules", "{n} 条规则"),
        ("n_refused", "{n} refused", "{n} 个拒绝"),
        ("ports", "ports", "端口"),
        ("paths", "paths", "数据路径"),
        ("firewalls", "firewalls", "防火墙"),
        ("firewall", "firewall", "防火墙"),
        ("zones", "zones", "区域"),
        ("site", "site", "站点"),
        ("st_pass", "pass", "通过"),
        ("st_finding", "finding", "有发现"),
        ("st_closed", "closed", "关闭"),
        ("st_not_observable", "not observable", "无法观察"),
        ("st_enc", "encrypted by default", "默认加密"),
        ("st_plain", "not encrypted by default", "默认不加密"),
        ("st_cond", "conditionally encrypted", "有条件加密"),
        ("inner_title", "{n} flows inside", "{n} 个内部流:"),
        (
            "drawn",
            "{edges} edges and {chips} ⟲ chips drawn for {flows} flows; {boxes} boxes, "
            "{zones} zones, {firewalls} firewalls.",
            "为 {flows} 个流绘制了 {edges} 条边和 {chips} 个 ⟲ 标签;{boxes} 个框、{zones} 个区域、"
            "{firewalls} 个防火墙。",
        ),
        ("show_flows", "show in the flows table", "在流表中显示"),
        ("clear", "clear", "清除"),
        ("page", "page {p} of {n}", "第 {p} 页,共 {n} 页"),
        ("yes", "yes", "是"),
        ("no", "no", "否"),
        ("conditional", "conditional", "有条件"),
        ("local", "[local]", "[本机]"),
        ("supported_auth", "supported", "支持"),
        ("filtered_by_diagram", "filtered as the diagram", "按图的筛选条件"),
        ("selected", "selected", "已选择"),
    ]
}

SEVERITY_LABELS: dict[FindingSeverity, Text] = {
    FindingSeverity.critical: Text(en="critical", zh="严重"),
    FindingSeverity.high: Text(en="high", zh="高"),
    FindingSeverity.medium: Text(en="medium", zh="中"),
    FindingSeverity.low: Text(en="low", zh="低"),
    FindingSeverity.info: Text(en="info", zh="信息"),
}

STATUS_LABELS: dict[CheckStatus, Text] = {
    CheckStatus.passed: Text(en="pass", zh="通过"),
    CheckStatus.finding: Text(en="finding", zh="有发现"),
    CheckStatus.closed: Text(en="closed", zh="关闭"),
    CheckStatus.not_observable: Text(en="not observable", zh="无法观察"),
}


def label(key: str, lang: ReportLang) -> str:
    """The label ``key`` in ``lang``."""
    return pick(LABELS[key], lang)


def pick(text: Text, lang: ReportLang) -> str:
    """One language of a bilingual text."""
    return text.zh if lang == "zh" else text.en
