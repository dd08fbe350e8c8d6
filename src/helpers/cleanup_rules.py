"""The cleanup's named rules, one entry per rule: name, pattern, what it does (and what it reads).

Like KH Coder's rule files, every entry here is a rule a researcher can read and change on its
own: :class:`CleanupRule` ``name`` (the name the audit table shows), ``pattern`` (a regular
expression over one normalised line in simplified script) and ``description`` (what the rule takes
out), with the metadata ``field`` the line carries and the regex ``group`` holding its value.

- :data:`HEADER_RULES`: lines above the body (mastheads, document numbers, bylines, web furniture);
- :data:`TRAILER_RULES`: lines below the body (author notes, distribution lists, references);
- :data:`BODY_RULES`: lines inside the body (page numbers, widgets, captions);
- :data:`FRONT_MATTER_LABELS`: journal front-matter labels (摘要, 关键词, DOI …) and the rule each
  is recorded under.

How the rules are applied is in :func:`helpers.cleanup.document_clean`; stage 1 of the README
summarises them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property

from helpers.text import CJK_IDEOGRAPH

# --------------------------------------------------------------------------------------------------
# Boilerplate rules
# --------------------------------------------------------------------------------------------------

_DATE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_ORG_SUFFIX = (
    r"(?:委员会|办公厅|办公室|人民政府|政府|宣传部|研究中心|研究院|研究所|研究会|大学|学院|学会|协会"
    r"|联合会|部|厅|局|委|院|署|中心|处|社)"
)
#: Chinese numerals, the body of a character class: `[{_CN_NUMERALS}]+、` is a heading 一、.
_CN_NUMERALS = "一二三四五六七八九十百零〇两"
#: Words that end like an organisation's name but are not one (新局, 西部, 好处): a headline
#: 共启协作新局 is not an issuer.
_NOT_ORG_END = (
    r"(?<![新大布格开全结破胜变时棋困]局)(?<![全内外东西中南北局干腹]部)(?<![好益深之到难远近]处)"
)
#: Name tags of journal author lines: digits, letters or stars after each name (陈文盛a,d，范水生b).
_AUTHOR_NAME = rf"[{CJK_IDEOGRAPH}]{{2,4}}(?:\d(?:[,，]\d)*|[a-f](?:[,，][a-f])*|[*∗†])?"


@dataclass(frozen=True)
class CleanupRule:
    """A named boilerplate rule: a regular expression over one normalised, simplified line.

    ``field`` names the metadata the line carries (``date``, ``doc_number`` …); ``group`` is the
    regex group holding the value (0 for the whole line).
    """

    name: str
    pattern: str
    description: str
    field: str | None = None
    group: int = 0

    @cached_property
    def regex(self) -> re.Pattern:
        return _compiled(self.pattern)


@cache
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


_WEB_RULES = (
    CleanupRule(
        name="web_navigation",
        pattern=r"^(首页|当前位置|您的位置|您现在的位置|位置)\s*[:：>›»]|^[^。，]{0,40}([>›»]\s*[^>›»。，]{1,12}){2,}$"
        r"|^[^。，！？>]{2,24}>>[^。，！？>]{2,12}(?:>>[^。，！？>]{2,12})*$",
        description="breadcrumb or navigation line of a web page (首页 > 新闻 > …)",
    ),
    CleanupRule(
        name="web_byline",
        pattern=r"^(?=.*(来源|发布时间|发布日期|时间|作者|编辑|责任编辑|浏览次数|阅读|点击|字号)\s*[:：])"
        r"[^。！？]{0,120}$",
        description="source/date/author/font-size line of a web page (来源：… 发布时间：… 字号：大 "
        "中 小)",
        field="web_byline",
    ),
    CleanupRule(
        name="web_widget",
        pattern=r"^[•·●▪]?\s*(?:[【\[]?(?:打印|关闭|关闭窗口|打印本页|返回顶部|收藏|分享|分享到|扫一扫|微信|微博|QQ空间"
        r"|上一篇|下一篇|相关链接|相关新闻|相关阅读|纠错|列印|APP下载|下载APP|客户端下载|查看余下全文|展开全文"
        r"|阅读全文|查看全文|展开剩余\d+%|返回目录|返回首页|返回列表|字号|下载到本地|更方便阅读|论文部分内容阅读"
        r"|点击查看|您好|访客|登录|注册|退出)[】\]]?[\s，,|｜/]*)+(?:[:：].{0,60})?$",
        description="print/close/share widgets and related-link labels of a web page",
    ),
    CleanupRule(
        name="web_repost",
        pattern=r"^[（(]?(?:原标题|原题|转载自|转自|本文转自|本文来源|稿件来源|文章来源|信息来源)\s*[:：][^。！？]{0,80}$",
        description="repost lines of a mirror or aggregator (原标题：…, 转载自：…)",
        field="repost",
    ),
    CleanupRule(
        name="web_disclaimer",
        pattern=r"(不代表本(?:站|网|平台)(?:的)?观点|如有?侵权|请联系(?:我们|本站)?删除|转载请注明|未经.{0,8}授权.{0,12}转载"
        r"|^(?:版权声明|免责声明|声明)(?:\s*[:：]|$))",
        description="repost disclaimer (本站转载此文…不代表本站观点，如有侵权请联系删除)",
    ),
    CleanupRule(
        name="html_tag",
        pattern=r"^(?:<[^<>]{1,200}>\s*)+$",
        description="a line of leftover HTML tags (<td id=…></td>)",
    ),
    CleanupRule(
        name="paper_edition",
        pattern=rf"^《?[{CJK_IDEOGRAPH}]{{2,12}}报》?\s*[（(]?\s*\d{{4}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日\s*"
        rf"(?:第?\s*\d{{1,3}}\s*版)?\s*[）)]?(?:\s*(?:星期.|周.|[A-Z][a-z]{{2}}))?$"
        rf"|^第?\s*\d{{1,3}}\s*版\s*[:：]?\s*[{CJK_IDEOGRAPH}·]{{0,12}}$",
        description="newspaper name, date and page of an e-paper "
        "(《光明日报》（2026年03月07日10版）, 10版：要闻)",
        field="edition",
    ),
    CleanupRule(
        name="web_url",
        pattern=r"^(?:https?://|www\.)\S+(?:\s[^。！？]{0,80})?$",
        description="a web address on a line of its own, with the date or widgets that follow it",
    ),
    CleanupRule(
        name="web_menu",
        pattern=r"^[^。，！？|｜]{1,12}(?:\s*[|｜]\s*[^。，！？|｜]{1,12}){2,}$",
        description="site menu: three or more short items separated by | (网站首页 | 政务公开 | …)",
    ),
    CleanupRule(
        name="web_share",
        pattern=r"^(?:[【\[]?(?:分享到|分享至|转发到|扫一扫|扫码|用手机扫|复制链接|无障碍浏览|长者模式|适老化|繁体|简体"
        r"|大字版|关怀版))[^。！？]{0,60}$",
        description="share, QR-code and accessibility links (分享至 Facebook LINE, "
        "扫一扫在手机打开, 无障碍浏览 长者模式)",
    ),
    CleanupRule(
        name="web_date",
        pattern=r"^\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
        r"(?:\s*[^。！？，\d][^。！？，]{0,60})?$",
        description="publication date and time of a web page, with what follows on its line "
        "(2025-03-10 14:22 更新：…)",
        field="web_date",
    ),
    CleanupRule(
        name="web_stats",
        pattern=r"^(?=.*(?:下载次数|被引次数|被引量|下载量|浏览次数|浏览量|阅读量|阅读数|访问量|点击量|人气)\s*[:：]?\s*\d)"
        r"[^。！？]{0,120}$",
        description="download, citation and view counts of a page (下载次数：238 被引次数：5, "
        "访问量:249)",
    ),
    CleanupRule(
        name="web_comments",
        pattern=r"^(?:网友评论|发表评论|我要评论|评论区|全部评论|留言板|请登录后|已有\d+条评论)[^。！？]{0,60}$",
        description="comment box of a web page (网友评论, 请登录后发表评论, 已有0条评论)",
    ),
    CleanupRule(
        name="web_attachment",
        pattern=r"^附件\s*\d*\s*[:：]?.{0,80}\.(?:xlsx?|docx?|pdf|zip|rar|wps|et|ofd)$",
        description="attachment link of a web page (附件：….xlsx)",
    ),
    CleanupRule(
        name="web_related",
        pattern=r"^[【\[]?(?:相关新闻|相关阅读|相关链接|延伸阅读|推荐阅读|相关文章|热点推荐|更多新闻|本类推荐|本类排行"
        r"|猜你喜欢|热门推荐|热门文章|最新文章|热点新闻)[】\]]?\s*[:：]?$",
        description="heading of a related-links list (相关新闻：, 延伸阅读)",
    ),
    CleanupRule(
        name="web_copyright",
        pattern=r"(版权所有|Copyright|©|ICP备|网站标识码|主办单位|承办单位|技术支持|网站地图)",
        description="copyright, site registration (ICP) and sponsor lines of a web page footer",
    ),
)

_JOURNAL_RULES = (
    CleanupRule(
        name="journal_keywords",
        pattern=r"^[【\[]?(关键词|关键字|Key\s*words?)[】\]]?\s*[:：]\s*(.+)$",
        description="keywords line of a journal article (关键词：…)",
        field="keywords",
        group=2,
    ),
    CleanupRule(
        name="journal_classification",
        pattern=r"^(中图分类号|文献标识码|文献标志码|文章编号|DOI|doi)\s*[:：]",
        description="classification, identifier and DOI lines of a journal article",
        field="journal_ids",
    ),
    CleanupRule(
        name="journal_dates",
        pattern=r"^[［\[【（(]?(收稿日期|修回日期|录用日期|网络出版时间|发表日期)[:：]",
        description="received/revised/published dates of a journal article",
        field="journal_dates",
    ),
    CleanupRule(
        name="author_bio",
        pattern=r"^[［\[【（(]?(作者简介|通讯作者|通信作者|基金项目)[】\]）)]?\s*[:：]",
        description="author biography, corresponding author or funding line of a journal article",
        field="author_bio",
    ),
)

#: A line without any Chinese character above or below the body of a Chinese text: an English title,
#: author or affiliation line (PENG Qian, ZHU Hongxing (University of …)), a stray letter.
_LATIN_LINE = CleanupRule(
    name="latin_line",
    pattern=rf"^[^{CJK_IDEOGRAPH}\U00020000-\U0002fa1f]*[A-Za-z][^{CJK_IDEOGRAPH}\U00020000-\U0002fa1f]*$",
    description="a line without Chinese characters above or below a Chinese body (English title, "
    "authors, affiliation)",
)

#: Rules for the lines above the body, tried in order on each line of the leading block.
HEADER_RULES: tuple[CleanupRule, ...] = (
    CleanupRule(
        name="leader_instruction",
        pattern=r"^领导批示[:：]?.{0,20}$",
        description="box for a leader's written instruction (领导批示)",
    ),
    CleanupRule(
        name="circulation",
        pattern=r"^[（(]?(内部参阅|内部资料|内部刊物|注意保存|此件公开发布|此件不公开|秘密|机密|绝密|特急|加急|平急)"
        r"([★\s].{0,10})?[）)]?$",
        description="circulation, secrecy or urgency mark (内部参阅, 此件公开发布, 特急)",
        field="circulation",
    ),
    CleanupRule(
        name="series",
        pattern=rf"^[{CJK_IDEOGRAPH}]{{0,10}}(要报|简报|专报|快报|参阅|内参|通讯|动态|信息|专刊|增刊)$",
        description="name of the bulletin series (智库成果要报, 简报)",
        field="series",
    ),
    CleanupRule(
        name="issue_number",
        pattern=r"^[（(]?((?:\d{4}\s*年\s*)?(?:总\s*)?第\s*\d+\s*期(?:\s*[（(]?总第\s*\d+\s*期[）)]?)?)[）)]?$",
        description="issue number of a bulletin (第131期)",
        field="issue",
        group=1,
    ),
    CleanupRule(
        name="issuer_mark",
        pattern=r"^(.{2,40}?)\s*文件$",
        description="issuing authority's masthead (发文机关标识: …文件)",
        field="issuer",
        group=1,
    ),
    CleanupRule(
        name="doc_number",
        pattern=rf"^[{CJK_IDEOGRAPH}]{{1,14}}〔\d{{4}}〕\s*\d+\s*号$",
        description="document number (发文字号: 宁党办〔2021〕54号)",
        field="doc_number",
    ),
    CleanupRule(
        name="date",
        pattern=rf"^{_DATE}$",
        description="date line (成文日期 or issue date)",
        field="date",
    ),
    CleanupRule(
        name="issuer",
        pattern=rf"^[{CJK_IDEOGRAPH}（）、]{{2,40}}{_ORG_SUFFIX}{_NOT_ORG_END}$",
        description="name of an issuing organisation on a line of its own",
        field="issuer",
    ),
    CleanupRule(
        name="project_note",
        pattern=r"^[〔\[【].{0,80}(项目|课题|基金|成果|资助).{0,40}[〕\]】]$",
        description="funding or project note in brackets (〔…项目阶段性成果〕)",
        field="funding",
    ),
    CleanupRule(
        name="byline",
        pattern=rf"^(?:[.．·…。\s]{{2,}}|(?:作者|撰稿|撰文|文|执笔)\s*[:：/|]\s*)(.{{2,30}})$"
        rf"|^(?!(?:前言|引言|序言|导言|总则|附则|概述|摘要|背景|结语|绪论|目录|附件|说明)$)"
        rf"([{CJK_IDEOGRAPH}]{{2,4}}\d?(?:[，,、\s]+[{CJK_IDEOGRAPH}]{{2,4}}\d?){{0,5}})$",
        description="author line (.....丁颖, 作者：…, or names alone under the title of an "
        "article)",
        field="author",
        group=0,
    ),
    CleanupRule(
        name="affiliation",
        pattern=r"^[（(](?=.*(大学|学院|研究院|研究所|研究中心|党校|\d{6})).{2,80}[）)]$",
        description="author's affiliation under the title ((宁夏大学，宁夏 银川 750021))",
        field="affiliation",
    ),
    CleanupRule(
        name="journal_issue",
        pattern=rf"^《?[{CJK_IDEOGRAPH}（）()]{{0,24}}》?\s*(?:\d{{4}}\s*年\s*)?(?:第\s*)?\d{{1,3}}\s*期"
        rf"(?:\s*[（(]?总第\s*\d+\s*期[）)]?)?(?:\s*第?[\d\-–—,，共页\s]{{0,30}}页)?$",
        description="journal name, issue and pages of an article (宁夏社会科学 2023年第5期, "
        "2016年第3期82-87，共6页)",
        field="issue",
    ),
    CleanupRule(
        name="journal_authors",
        pattern=rf"^(?=.*[{CJK_IDEOGRAPH}](?:\d|[a-f]|[*∗†]))(?:{_AUTHOR_NAME}[，,、;；\s]+){{0,7}}{_AUTHOR_NAME}$",
        description="journal author line with affiliation tags (陈文盛a,d，范水生b; "
        "段树国1，周佳琦2)",
        field="author",
    ),
    CleanupRule(
        name="journal_author_line",
        pattern=r"^(?=.*(?<!\d)\d{6}(?!\d))(?=.*(?:大学|学院|研究院|研究所|研究中心|党校|科学院|学校))[^。！？]{4,200}$",
        description="author, affiliation and postcode run together on one line "
        "(张三宁夏大学…银川750021)",
        field="affiliation",
    ),
    CleanupRule(
        name="news_byline",
        pattern=rf"^[□■◇◆◎●○☆★]?(?:本报|本刊|本网|本台|[{CJK_IDEOGRAPH}]{{2,8}}?(?:日报|晚报|报|网|社|台))?"
        rf"(?:特约|首席|见习)?(?:评论员|记者|通讯员|实习生)[{CJK_IDEOGRAPH}、，/／|\s]{{0,24}}$",
        description="news byline on its own line (□本报评论员, 本报记者某某)",
        field="author",
    ),
    CleanupRule(
        name="column_label",
        pattern=r"^【[^】。，！？]{2,12}】$",
        description="column label of a newspaper page above the text (【开放日聚焦】)",
    ),
    CleanupRule(
        name="addressee",
        pattern=r"^[^。！？]{2,200}[，、][^。！？]{0,200}[：:]$",
        description="addressees (主送机关: 各市、县（区）党委和人民政府，…：)",
        field="addressee",
    ),
    *_JOURNAL_RULES,
    *_WEB_RULES,
    _LATIN_LINE,
)

#: Rules for the lines below the body, tried on each line of the trailing block (from the end).
TRAILER_RULES: tuple[CleanupRule, ...] = (
    CleanupRule(
        name="author_note",
        pattern=r"^[（(]?(执笔人?|作者|撰稿人?|撰文|责任编辑|编辑|审核|校对|审稿)\s*[:：]\s*(.{1,60}?)[）)]?$",
        description="author or editor note (（执笔人：宁夏大学 丁颖）)",
        field="author",
        group=2,
    ),
    CleanupRule(
        name="contact",
        pattern=r"(批示反馈|联系电话|联系人\s*[:：]|电\s*话\s*[:：]|传\s*真\s*[:：]|邮\s*箱\s*[:：]|E-?mail)",
        description="feedback request and contact details (请将领导同志的批示反馈…联系电话：…)",
        field="contact",
    ),
    CleanupRule(
        name="distribution",
        pattern=r"^(呈送|报送|抄送|抄报|发送|分送|送|印发)\s*[:：](.+)$",
        description="distribution list (呈送：…, 抄送：…, 印发：…)",
        field="distributed_to",
        group=2,
    ),
    CleanupRule(
        name="print_date",
        pattern=rf"^(.{{0,40}}?)\s*{_DATE}\s*印\s*发$",
        description="printing office and date (…2021年6月15日印发)",
        field="print_date",
    ),
    CleanupRule(
        name="copies",
        pattern=r"^共\s*印\s*(\d+)\s*份$",
        description="number of copies printed (共印210份)",
        field="copies",
        group=1,
    ),
    CleanupRule(
        name="date",
        pattern=rf"^{_DATE}$",
        description="signature date below the body",
        field="date",
    ),
    CleanupRule(
        name="issuer",
        pattern=rf"^[{CJK_IDEOGRAPH}（）、]{{2,40}}{_ORG_SUFFIX}{_NOT_ORG_END}$",
        description="issuing or printing organisation on a line of its own",
        field="issuer",
    ),
    CleanupRule(
        name="circulation",
        pattern=r"^[（(](此件公开发布|此件不公开|此件发至.{1,20})[）)]$",
        description="circulation note (（此件公开发布）)",
        field="circulation",
    ),
    CleanupRule(
        name="reference",
        pattern=r"^\s*(?:[［\[]\s*\d{1,3}\s*[］\]]|\d{1,3}[.．、]\s*(?=.*[［\[][A-Z]{1,2}(?:/OL)?[］\]])).+$",
        description="an entry of a reference list ([1] 作者. 题名[J]. 期刊, 2020.)",
    ),
    CleanupRule(
        name="news_byline_note",
        pattern=rf"^[（(](?:本报|本刊|本网|[{CJK_IDEOGRAPH}]{{2,8}}?(?:日报|报|网|社|台))?(?:特约|首席|见习)?"
        rf"(?:记者|通讯员|实习生)[^（）()。]{{0,40}}[）)]$",
        description="reporters' credit below the text ((本报记者 某某 某某))",
        field="author",
    ),
    CleanupRule(
        name="web_link_item",
        pattern=r"^[·•‧●▪■◆◇○\-]\s*[^。！？]{2,40}$",
        description="an item of a related-links list below the body (· 宁夏代表团赴厦门考察…), "
        "only under such a heading",
    ),
    CleanupRule(
        name="references_heading",
        pattern=r"^[【\[]?(参考文献|注释|References)[】\]]?[:：]?$",
        description="heading of the reference list",
    ),
    *_JOURNAL_RULES,
    *_WEB_RULES,
    _LATIN_LINE,
)

#: Rules applied to every line of the body.
BODY_RULES: tuple[CleanupRule, ...] = (
    CleanupRule(
        name="page_number",
        pattern=r"^(?:[-—–－]\s*\d{1,4}\s*[-—–－]|\d{1,3}|第\s*\d+\s*页(?:\s*[，,/]?\s*共\s*\d+\s*页)?|\d{1,4}\s*/\s*\d{1,4})$",
        description="page number left by the print layout (— 3 —, 第3页, 3/12)",
    ),
    CleanupRule(
        name="web_widget",
        pattern=r"^[【\[](打印|关闭|关闭窗口|打印本页|返回顶部|收藏|分享|列印)[】\]](\s*[【\[][^】\]]{1,6}[】\]])*$",
        description="print/close widgets of a web page inside the text",
    ),
    CleanupRule(
        name="url",
        pattern=r"^(?:https?://|www\.)\S+$",
        description="a web address on a line of its own",
    ),
    CleanupRule(
        name="html_tag",
        pattern=r"^(?:<[^<>]{1,200}>\s*)+$",
        description="a line of leftover HTML tags (<td id=…></td>)",
    ),
    CleanupRule(
        name="photo_caption",
        pattern=rf"^图为[^。！？]{{2,80}}。?$|^(?:[{CJK_IDEOGRAPH}]{{0,12}}(?:记者|通讯员))?[{CJK_IDEOGRAPH}]{{2,4}}"
        rf"(?:[、，][{CJK_IDEOGRAPH}]{{2,4}})*\s*摄$"
        rf"|^(?=.{{2,60}}$)(?![{_CN_NUMERALS}]+、|（|第)(?:[^。！？]{{1,30}}。)?[^。！？]{{1,24}}(?:摄|摄影|供图|制图)[）)]?$",
        description="photo caption and credit (图为…。, 马某某摄, "
        "古田翠屏湖风光。某某融媒体中心供图)",
    ),
    *_JOURNAL_RULES,
)


# Journal front matter: bracketed (【摘要】 〔关键词〕 [中图分类号]) or colon-style (摘要： DOI:)
# labels.
#: label (simplified script, spaces removed by normalisation) -> rule name, metadata field
FRONT_MATTER_LABELS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("摘要", "内容摘要", "内容提要", "提要"), ("journal_abstract", "")),
    **dict.fromkeys(("Abstract", "ABSTRACT"), ("journal_abstract_en", "abstract_en")),
    **dict.fromkeys(
        ("关键词", "关键字", "主题词", "Keywords", "Key words", "KEY WORDS", "Key Words"),
        ("journal_keywords", "keywords"),
    ),
    **dict.fromkeys(
        (
            "中图分类号",
            "中图法分类号",
            "分类号",
            "文献标识码",
            "文献标志码",
            "文章编号",
            "DOI",
            "doi",
            "CLC number",
            "CLC",
            "Document code",
            "Article ID",
        ),
        ("journal_classification", "journal_ids"),
    ),
    **dict.fromkeys(
        ("基金项目", "项目基金", "作者简介", "作者单位", "通讯作者", "通信作者"),
        ("author_bio", "author_bio"),
    ),
    **dict.fromkeys(
        (
            "收稿日期",
            "修回日期",
            "录用日期",
            "网络出版时间",
            "网络首发时间",
            "发表日期",
            "出版日期",
        ),
        ("journal_dates", "journal_dates"),
    ),
    **dict.fromkeys(
        ("引用格式", "引用本文", "本文引用格式", "网络出版地址", "网络首发地址"),
        ("journal_citation", "citation"),
    ),
    # only in brackets (【作者】) or alone on a line: with a colon they start ordinary lines
    **dict.fromkeys(("作者", "作者信息", "机构", "基金"), ("author_bio", "author_bio")),
    "出处": ("journal_citation", "citation"),
}
#: Labels that count only in brackets or alone on a line (``作者：`` is a byline, ``基金：`` text).
FRONT_MATTER_BRACKET_ONLY = frozenset({"作者", "作者信息", "机构", "基金", "出处"})
#: Labels followed by a space instead of a colon on some sites (``摘要 人口较少…``,
#: ``中图分类号 S-9``).
FRONT_MATTER_SPACED = (
    "摘要",
    "关键词",
    "中图分类号",
    "文献标识码",
    "文章编号",
    "基金项目",
    "作者简介",
    "收稿日期",
    "Abstract",
    "Key words",
    "Keywords",
    "DOI",
)

#: Common Chinese surnames (simplified), for author lines whose names are separated only by spaces
#: (``王园 张仪华``), which normalisation would run together.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
    "崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文"
    "牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛"
    "曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏"
    "席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_SPACED_NAME = (
    rf"[{_SURNAMES}](?:[{CJK_IDEOGRAPH}]{{1,2}}"
    rf"|[ \u3000][{CJK_IDEOGRAPH}](?![{CJK_IDEOGRAPH}]))[\d*]{{0,2}}"
)
_SPACED_NAMES = re.compile(rf"^(?:{_SPACED_NAME}[ \u3000,，、;；]+){{1,7}}{_SPACED_NAME}$")
_SPACED_NAMES_RULE = CleanupRule(
    name="journal_authors",
    pattern=_SPACED_NAMES.pattern,
    description="author names separated only by spaces under or over the title (王园 张仪华), "
    "matched on the raw line",
    field="author",
)
