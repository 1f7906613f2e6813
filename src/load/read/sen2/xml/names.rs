//! The elements of a SEN2 return the XML reader knows: those it reads ([`Item`]), the records
//! and containers that hold them ([`El`]), and those it knows and skips with what they hold
//! (everything else it does not know, and logs). Names are compared in lower case.

use super::Records;

/// What an element is to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum El {
    Root,
    Header,
    Details,
    Persons,
    Person,
    Requests,
    Assessment,
    NamedPlan,
    ActivePlans,
    Item(Item),
    /// Known and not read (with everything inside it), or unknown.
    Skip,
}

/// The items read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Item {
    ReferenceDate,
    BirthDate,
    Received,
    RequestOutcome,
    RequestOutcomeDate,
    AssessmentOutcome,
    AssessmentOutcomeDate,
    Week20,
    StartDate,
    CeaseDate,
    ReviewMeeting,
    ReviewOutcome,
    LastReview,
}

impl Item {
    /// One bit per item of a `Requests` record (each appears once in it).
    pub(super) fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// Items known and not read, per parent (lower case): skipped without a log line.
const SKIPPED: [(El, &[&str]); 7] = [
    (El::Root, &[]),
    (El::Header, &["source", "dmo", "dco", "dsco"]),
    (El::Details, &["collection", "year"]),
    (
        El::Person,
        &[
            "surname",
            "forename",
            "gendercurrent",
            "sex",
            "ethnicity",
            "postcode",
            "upn",
            "uniquelearnernumber",
            "upnunknown",
        ],
    ),
    (
        El::Requests,
        &[
            "requestsource",
            "rya",
            "requestmediation",
            "requesttribunal",
            "exported",
        ],
    ),
    (
        El::Assessment,
        &[
            "assessmentmediation",
            "assessmenttribunal",
            "othermediation",
            "othertribunal",
        ],
    ),
    (
        El::NamedPlan,
        &[
            "planres",
            "planwbp",
            "planwpb",
            "pb",
            "oa",
            "dp",
            "ceasereason",
            "plandetail",
        ],
    ),
];
const SKIPPED_ACTIVE: [&str; 10] = [
    "transferla",
    "reviewdraft",
    "phasetransferduedate",
    "phasetransferfinaldate",
    "placementdetail",
    "senneed",
    "res",
    "wbp",
    "wpb",
    "attendancepattern",
];

/// An element named `name` (lower case) inside `parent`, with its name as messages give it;
/// `None` if sendwatch does not know it there.
pub(super) fn classify(
    parent: Option<El>,
    name: &str,
    records: Records,
) -> Option<(El, &'static str)> {
    let active = records == Records::ActivePlans;
    let el = match (parent, name) {
        (None, "message") => (El::Root, "Message"),
        (None, _) => (El::Root, "(root)"),
        (Some(El::Item(_) | El::Skip), _) => (El::Skip, ""),
        (Some(El::Root), "header") => (El::Header, "Header"),
        (Some(El::Root), "persons") => (El::Persons, "Persons"),
        (Some(El::Header), "collectiondetails") => (El::Details, "CollectionDetails"),
        (Some(El::Details), "referencedate") if active => {
            (El::Item(Item::ReferenceDate), "ReferenceDate")
        }
        (Some(El::Details), "referencedate") => (El::Skip, ""),
        (Some(El::Persons), "person") => (El::Person, "Person"),
        (Some(El::Person), "personbirthdate") if active => {
            (El::Item(Item::BirthDate), "PersonBirthDate")
        }
        (Some(El::Person), "personbirthdate") => (El::Skip, ""),
        (Some(El::Person), "requests") => (El::Requests, "Requests"),
        (Some(El::Requests), "receiveddate") => (El::Item(Item::Received), "ReceivedDate"),
        (Some(El::Requests), "requestoutcome") => {
            (El::Item(Item::RequestOutcome), "RequestOutcome")
        }
        (Some(El::Requests), "requestoutcomedate") => {
            (El::Item(Item::RequestOutcomeDate), "RequestOutcomeDate")
        }
        (Some(El::Requests), "assessment") => (El::Assessment, "Assessment"),
        (Some(El::Requests), "activeplans") => (El::ActivePlans, "ActivePlans"),
        (Some(El::Assessment), "assessmentoutcome") => {
            (El::Item(Item::AssessmentOutcome), "AssessmentOutcome")
        }
        (Some(El::Assessment), "assessmentoutcomedate") => (
            El::Item(Item::AssessmentOutcomeDate),
            "AssessmentOutcomeDate",
        ),
        (Some(El::Assessment), "week20") => (El::Item(Item::Week20), "Week20"),
        (Some(El::Assessment), "namedplan") => (El::NamedPlan, "NamedPlan"),
        (Some(El::NamedPlan), "startdate") => (El::Item(Item::StartDate), "StartDate"),
        (Some(El::NamedPlan), "ceasedate") => (El::Item(Item::CeaseDate), "CeaseDate"),
        (Some(El::ActivePlans), "reviewmeeting") => {
            (El::Item(Item::ReviewMeeting), "ReviewMeeting")
        }
        (Some(El::ActivePlans), "reviewoutcome") => {
            (El::Item(Item::ReviewOutcome), "ReviewOutcome")
        }
        (Some(El::ActivePlans), "lastreview") => (El::Item(Item::LastReview), "LastReview"),
        (Some(El::ActivePlans), n) if SKIPPED_ACTIVE.contains(&n) => (El::Skip, ""),
        (Some(p), n) if SKIPPED.iter().any(|(q, ns)| *q == p && ns.contains(&n)) => (El::Skip, ""),
        _ => return None,
    };
    Some(el)
}
