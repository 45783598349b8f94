#!/bin/sh
# azd postprovision hook: locks the time-based retention policy of the ledger-digests container. Bicep can create the
# policy but not lock it (locking is a POST action with the policy's ETag). Once locked, nobody, an owner included,
# can shorten the retention, delete the policy or rewrite a digest line until each blob's 3 years have passed.
# One-way: the storage account cannot be deleted while it holds locked blobs. For a throwaway environment set
# `azd env set LEDGER_DIGESTS_LOCK false` before `azd up` (the digests are then only time-protected, unlocked).
set -eu

: "${AZURE_RESOURCE_GROUP:?azd sets AZURE_RESOURCE_GROUP from main.bicep}"
: "${AZURE_STORAGE_ACCOUNT_NAME:?azd sets AZURE_STORAGE_ACCOUNT_NAME from main.bicep}"
container=ledger-digests

if [ "${LEDGER_DIGESTS_LOCK:-true}" = "false" ]; then
  echo "ledger-digests immutability policy left UNLOCKED (LEDGER_DIGESTS_LOCK=false): not for production" >&2
  exit 0
fi

policy() {
  az storage container immutability-policy show --resource-group "$AZURE_RESOURCE_GROUP" \
    --account-name "$AZURE_STORAGE_ACCOUNT_NAME" --container-name "$container" --query "$1" --output tsv
}

if [ "$(policy state)" != "Locked" ]; then
  az storage container immutability-policy lock --resource-group "$AZURE_RESOURCE_GROUP" \
    --account-name "$AZURE_STORAGE_ACCOUNT_NAME" --container-name "$container" --if-match "$(policy etag)" --output none
fi

state=$(policy state)
if [ "$state" != "Locked" ]; then
  echo "the ledger-digests immutability policy is $state, not Locked" >&2
  exit 1
fi

# A locked policy cannot be redeployed: later provisions leave it out (main.bicep ledgerDigestsPolicyLocked).
azd env set LEDGER_DIGESTS_POLICY_LOCKED true
echo "ledger-digests immutability policy is Locked"
