"""The HAM-D 17's rating anchors (Hamilton 1960; public domain), item by item, score by score.

Data for the forms that rate the scale; the scores themselves are checked by ``scoring.read_entry``.
The MADRS and BDI-II anchors are copyrighted and never appear here: their forms show item numbers.
Kept in English, as published: a translated rating scale must be a validated translation.
"""

from __future__ import annotations

from types import MappingProxyType

#: item number → (anchor of score 0, anchor of score 1, …); its length is the item's range.
HAMD17_ANCHORS = MappingProxyType(
    {
        1: (
            "Absent",
            "These feeling states indicated only on questioning",
            "These feeling states spontaneously reported verbally",
            "Communicates feeling states non-verbally, i.e. through facial expression, posture, voice "
            "and tendency to weep",
            "Patient reports virtually only these feeling states in spontaneous verbal and non-verbal communication",
        ),
        2: (
            "Absent",
            "Self reproach, feels he/she has let people down",
            "Ideas of guilt or rumination over past errors or sinful deeds",
            "Present illness is a punishment. Delusions of guilt",
            "Hears accusatory or denunciatory voices and/or experiences threatening visual hallucinations",
        ),
        3: (
            "Absent",
            "Feels life is not worth living",
            "Wishes he/she were dead or any thoughts of possible death to self",
            "Ideas or gestures of suicide",
            "Attempts at suicide (any serious attempt rates 4)",
        ),
        4: (
            "No difficulty falling asleep",
            "Complains of occasional difficulty falling asleep, i.e. more than half an hour",
            "Complains of nightly difficulty falling asleep",
        ),
        5: (
            "No difficulty",
            "Complains of being restless and disturbed during the night",
            "Waking during the night: any getting out of bed rates 2 (except for purposes of voiding)",
        ),
        6: (
            "No difficulty",
            "Waking in early hours of the morning but goes back to sleep",
            "Unable to fall asleep again if he/she gets out of bed",
        ),
        7: (
            "No difficulty",
            "Thoughts and feelings of incapacity, fatigue or weakness related to activities, work or hobbies",
            "Loss of interest in activity, hobbies or work, reported directly or shown in listlessness, "
            "indecision and vacillation",
            "Decrease in actual time spent in activities or decrease in productivity",
            "Stopped working because of present illness",
        ),
        8: (
            "Normal speech and thought",
            "Slight retardation during the interview",
            "Obvious retardation during the interview",
            "Interview difficult",
            "Complete stupor",
        ),
        9: (
            "None",
            "Fidgetiness",
            "Playing with hands, hair, etc.",
            "Moving about, can't sit still",
            "Hand wringing, nail biting, hair-pulling, biting of lips",
        ),
        10: (
            "No difficulty",
            "Subjective tension and irritability",
            "Worrying about minor matters",
            "Apprehensive attitude apparent in face or speech",
            "Fears expressed without questioning",
        ),
        11: ("Absent", "Mild", "Moderate", "Severe", "Incapacitating"),
        12: (
            "None",
            "Loss of appetite but eating without encouragement; heavy feelings in abdomen",
            "Difficulty eating without urging; requests or requires laxatives or medication for the bowels "
            "or for gastro-intestinal symptoms",
        ),
        13: (
            "None",
            "Heaviness in limbs, back or head; backaches, headaches, muscle aches; loss of energy and fatigability",
            "Any clear-cut symptom rates 2",
        ),
        14: ("Absent", "Mild", "Severe"),
        15: (
            "Not present",
            "Self-absorption (bodily)",
            "Preoccupation with health",
            "Frequent complaints, requests for help, etc.",
            "Hypochondriacal delusions",
        ),
        16: (
            "No weight loss",
            "Probable weight loss associated with present illness (or more than 0.5 kg in a week, if measured)",
            "Definite weight loss according to the patient (or more than 1 kg in a week, if measured)",
        ),
        17: (
            "Acknowledges being depressed and ill",
            "Acknowledges illness but attributes cause to bad food, climate, overwork, virus, need for rest, etc.",
            "Denies being ill at all",
        ),
    }
)
