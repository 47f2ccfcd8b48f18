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
            "One arrow per flow, from its source to its destination; a flow inside one host "
            "is a chip in the host's box. Click an arrow or a chip for its detail.",
            "每个流一条箭头,从源指向目标;同一主机内部的流显示为该主机框内的小标签。"
            "点击箭头或标签查看详细信息。",
        ),
        (
            "score_note",
            "100 = every observed check clean; each check loses the weight of its "
            "worst finding (critical 1, high 0.7, medium 0.4, low 0.15, info 0).",
            "100 = 每项已观察的检查均无问题;每项检查扣除其最严重发现的权重"
            "(严重 1、高 0.7、中 0.4、低 0.15、信息 0)。",
        ),
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
