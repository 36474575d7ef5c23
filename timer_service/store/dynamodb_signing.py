"""An owner's webhook signing secrets in the DynamoDB store: one item, read consistent, replaced
by a put conditional on the version it was read at. The table's encryption at rest covers them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from timer_service.keys import PK, IndexKey, signing_secrets_key
from timer_service.signing_secrets import OwnerSecrets, SigningSecret
from timer_service.store.codecs import Item, key_item, number, string
from timer_service.store.table import DynamoTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["DynamoSigningSecrets", "signing_secrets_from_item", "signing_secrets_item"]


def signing_secrets_item(secrets: OwnerSecrets) -> Item:
    entries: list[Item] = []
    for secret in secrets.secrets:
        entry: Item = {
            "id": string(secret.id),
            "secret": string(secret.secret),
            "createdS": number(secret.created_s),
        }
        if secret.retires_at_s is not None:
            entry["retiresS"] = number(secret.retires_at_s)
        entries.append({"M": entry})
    return {
        **key_item(signing_secrets_key(secrets.owner)),
        "ver": number(secrets.version),
        "secrets": {"L": entries},
    }


def signing_secrets_from_item(owner: str, item: Item | None) -> OwnerSecrets:
    if item is None:
        return OwnerSecrets(owner)
    found = []
    for entry in item["secrets"]["L"]:
        fields = entry["M"]
        found.append(
            SigningSecret(
                id=fields["id"]["S"],
                secret=fields["secret"]["S"],
                created_s=int(fields["createdS"]["N"]),
                retires_at_s=int(fields["retiresS"]["N"]) if "retiresS" in fields else None,
            )
        )
    return OwnerSecrets(owner, tuple(found), int(item["ver"]["N"]))


class DynamoSigningSecrets:
    """Signing secrets on the store's table (mixed into DynamoTimerStore)."""

    _client: DynamoDBClient
    _table: DynamoTable
    _name: str

    def _get(self, key: IndexKey) -> Item | None: ...  # the store's

    def get_signing_secrets(self, owner: str) -> OwnerSecrets:
        return signing_secrets_from_item(owner, self._get(signing_secrets_key(owner)))

    def put_signing_secrets(self, secrets: OwnerSecrets, *, expected_version: int) -> bool:
        request: dict[str, Any] = {"TableName": self._name, "Item": signing_secrets_item(secrets)}
        if expected_version == 0:
            request["ConditionExpression"] = "attribute_not_exists(#pk)"
            request["ExpressionAttributeNames"] = {"#pk": PK}
        else:
            request["ConditionExpression"] = "#ver = :ver"
            request["ExpressionAttributeNames"] = {"#ver": "ver"}
            request["ExpressionAttributeValues"] = {":ver": number(expected_version)}
        return self._table.holds(self._client.put_item, request)
